"""Load generator for the inbox benchmark (a separate process, so it does not share the server's core).

    python tests/bench/inbox_load.py TARGET_INBOX_URL IN_REPLY_TO COUNT CONCURRENCY ACTORS [RATE]

Serves ACTORS remote actors (a fake Mastodon on 127.0.0.1), pre-signs COUNT replies as they would,
prints "ready", waits for a line on stdin, sends them and prints one JSON line: elapsed seconds, the
answers by status, and the 50th/99th percentile of the time each request took to be answered.

Without RATE (or 0) the load is closed: CONCURRENCY senders, each sending its next reply when the last
was answered, so what it measures depends on the server's latency as much as on its capacity. With RATE,
the load is open, as a thread going viral is: replies start at RATE per second whatever the answers, with
at most CONCURRENCY in flight (a server that cannot keep up makes them pile up to that limit).
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
from fakes.fediverse import FakeInstance, Network, mastodon_reply  # noqa: E402


async def main(target: str, in_reply_to: str, count: int, concurrency: int, actors: int, rate: int = 0) -> None:
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
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def send(body: bytes, headers: dict[str, str], due: float | None = None) -> None:
            began = time.perf_counter() if due is None else due  # an open load counts from when it was due
            async with http.post(target, data=body, headers=headers) as response:
                await response.read()
                statuses[response.status] += 1
            latencies.append(time.perf_counter() - began)

        start = time.perf_counter()
        if rate:
            await send_open(requests, rate, concurrency, send)
        else:
            queue = iter(requests)

            async def sender() -> None:
                for body, headers in queue:
                    await send(body, headers)
            await asyncio.gather(*(sender() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    print(json.dumps({"elapsed": elapsed, "statuses": {str(s): c for s, c in sorted(statuses.items())},
                      "p50": latencies[len(latencies) // 2], "p99": latencies[int(len(latencies) * 0.99)]}),
          flush=True)
    await instance.close()


async def send_open(requests, rate: int, limit: int, send) -> None:
    """Request n is due at n / rate seconds and starts then, or as soon after as fewer than `limit` are in
    flight; its answer time counts from when it was due, so a server that makes the sender wait is not
    flattered by the waiting (coordinated omission)."""
    slots, tasks, start = asyncio.Semaphore(limit), [], time.perf_counter()

    async def one(body: bytes, headers: dict[str, str], due: float) -> None:
        try:
            await send(body, headers, due)
        finally:
            slots.release()

    for n, (body, headers) in enumerate(requests):
        due = start + n / rate
        if due > time.perf_counter():
            await asyncio.sleep(due - time.perf_counter())
        await slots.acquire()
        tasks.append(asyncio.create_task(one(body, headers, due)))
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:])))
