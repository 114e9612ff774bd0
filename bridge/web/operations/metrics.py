"""`GET /metrics`: Prometheus' text format, for the addresses in `[metrics] allow` only (default loopback);
everyone else gets 404, as if there were nothing. The client address is the one `bridge.web.clients`
decided (a forwarded address counts only from `[instance] trusted_proxies`).

A `stadtbote worker` process answers its own `GET /metrics` on `[metrics] worker_listen` (`worker_app`):
the deliveries it made are counted in its memory, not in serve's."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from bridge.appkeys import CONFIG, SESSIONS
from bridge.config.model import Config
from bridge.runtime.metrics import CONTENT_TYPE, exposition, process_exposition, read_store
from bridge.web.clients import client_of


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", scrape, name="metrics")


async def scrape(request: web.Request) -> web.Response:
    if not _allowed(request):
        raise web.HTTPNotFound()
    async with request.app[SESSIONS]() as session:
        figures = await read_store(session)
    return _metrics_response(exposition(figures))


def worker_app(config: Config) -> web.Application:
    """The one route of a worker process; no proxy stands in front of it, so the peer is the client."""
    app = web.Application()
    app[CONFIG] = config
    app.router.add_get("/metrics", _scrape_worker)
    return app


async def _scrape_worker(request: web.Request) -> web.Response:
    # The worker app has no client-origin middleware, so `client_of` falls back to the TCP peer, trusting no header.
    if not _allowed(request):
        raise web.HTTPNotFound()
    return _metrics_response(process_exposition())


def _metrics_response(body: bytes) -> web.Response:
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


def _allowed(request: web.Request) -> bool:
    return _listed(client_of(request).address, request.app[CONFIG])


def _listed(address: str | None, config: Config) -> bool:
    if address is None:
        return False
    parsed = ipaddress.ip_address(address)
    return any(parsed in network for network in config.metrics.allow)
