"""`GET /metrics`: Prometheus' text format, for the addresses in `[metrics] allow` only (default loopback);
everyone else gets 404, as if there were nothing. The client address is the one `bridge.web.clients`
decided (a forwarded address counts only from `[instance] trusted_proxies`)."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from bridge.appkeys import CONFIG, SESSIONS
from bridge.runtime.metrics import CONTENT_TYPE, exposition, read_store
from bridge.web.clients import client_of


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", scrape, name="metrics")


async def scrape(request: web.Request) -> web.Response:
    if not _allowed(request):
        raise web.HTTPNotFound()
    async with request.app[SESSIONS]() as session:
        figures = await read_store(session)
    return web.Response(body=exposition(figures), headers={"Content-Type": CONTENT_TYPE,
                                                           "Cache-Control": "no-store"})


def _allowed(request: web.Request) -> bool:
    address = client_of(request).address
    if address is None:
        return False
    parsed = ipaddress.ip_address(address)
    return any(parsed in network for network in request.app[CONFIG].metrics.allow)
