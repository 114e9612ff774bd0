"""The ceiling reference for the inbox benchmark: an aiohttp server whose inbox reads the body and answers
202 without doing anything, driven by the same load generator. What one process of this HTTP stack can
answer at all on this machine, so the inbox figure can be read as a share of it.

    python tests/bench/empty_inbox.py PORT   → prints "is listening" when ready
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bridge.cli import eventloop  # noqa: E402  (the server's own loop, so the ceiling is of the same stack)


async def inbox(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"status": "ignored"}, status=202)


async def main(port: int) -> None:
    app = web.Application()
    app.router.add_post("/inbox", inbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("is listening", flush=True)
    try:
        await asyncio.Event().wait()  # until the benchmark terminates this process
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    eventloop.run(main(int(sys.argv[1])))
