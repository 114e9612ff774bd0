"""Load generator for the inbox benchmark (a separate process, so it does not share the server's core).

    python tests/bench/inbox_load.py TARGET_INBOX_URL IN_REPLY_TO COUNT CONCURRENCY ACTORS

Serves ACTORS remote actors (a fake Mastodon on 127.0.0.1), pre-signs COUNT replies as they would,
prints "ready", waits for a line on stdin, sends them with CONCURRENCY connections and prints
"elapsed <seconds> <status>:<count> …".
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fediverse import FakeInstance, Network, mastodon_reply  # noqa: E402


async def main(target: str, in_reply_to: str, count: int, concurrency: int, actors: int) -> None:
    instance = await FakeInstance("placeholder", Network()).start()
    instance.host = f"127.0.0.1:{instance.server.port}"
    people = [instance.add_actor(f"citizen{i}") for i in range(actors)]
    requests = []
    for n in range(count):
        actor = people[n % actors]
        body = json.dumps(mastodon_reply(actor, in_reply_to, target.rsplit("/inbox", 1)[0], number=n,
                                         content=f"<p>Antwort {n}</p>")).encode()
        requests.append((body, instance.signed_headers(actor, target, body)))
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    statuses: Counter[int] = Counter()
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def sender() -> None:
            for body, headers in queue:
                async with http.post(target, data=body, headers=headers) as response:
                    await response.read()
                    statuses[response.status] += 1
        start = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    print("elapsed", f"{elapsed:.3f}", *(f"{s}:{c}" for s, c in sorted(statuses.items())), flush=True)
    await instance.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:6])))
