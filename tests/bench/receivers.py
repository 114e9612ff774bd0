"""Fake inbox servers for the benchmarks: N aiohttp servers on loopback that answer 202 and count.

Run as a separate process so that receiving does not steal CPU from the worker being measured:
    python tests/bench/receivers.py N   → prints one port per line, then "ready"; GET /count on any port
    returns the total number of POSTs received by all servers.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

received = {"n": 0}


async def inbox(request: web.Request) -> web.Response:
    await request.read()
    received["n"] += 1
    return web.Response(status=202)


async def count(request: web.Request) -> web.Response:
    return web.json_response(received)


async def main(servers: int) -> None:
    app = web.Application()
    app.router.add_post("/{tail:.*}", inbox)
    app.router.add_get("/count", count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for _ in range(servers):
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(site._server.sockets[0].getsockname()[1], flush=True)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
