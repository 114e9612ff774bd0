"""The ceiling reference for the inbox benchmark: an aiohttp server whose inbox reads the body and answers
202 without doing anything, driven by the same load generator. What one process of this HTTP stack can
answer at all on this machine, so the inbox figure can be read as a share of it.

    python tests/bench/empty_inbox.py PORT   → prints "is listening" when ready
"""

from __future__ import annotations

import sys

from aiohttp import web


async def inbox(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"status": "ignored"}, status=202)


def main(port: int) -> None:
    app = web.Application()
    app.router.add_post("/inbox", inbox)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None,
                print=lambda *_: print("is listening", flush=True))


if __name__ == "__main__":
    main(int(sys.argv[1]))
