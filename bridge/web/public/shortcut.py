"""The first middleware: a reader's repeated request answered from the read cache before anything else runs.

A GET or HEAD without a Cookie header whose path, query and Accept header were answered from the read cache
before, while nothing has changed since (`ReadCache.shortcut`), gets the stored bytes or a 304 at once: no
session, no CSRF check, no account reload, no handler. What the skipped middlewares would have added to such
an answer is done here too: the request id (and the client, when the access log keeps its network), the
duration by route, the security headers (stored with the entry), the count of readers. Everything else takes
the long way, which also makes the shortcuts.
"""

from __future__ import annotations

import time

from aiohttp import web

from bridge.appkeys import CONFIG
from bridge.runtime import metrics
from bridge.web.clients import remember_client
from bridge.web.middleware import REQUEST_ID, new_request_id, route_name
from bridge.web.public import counting
from bridge.web.readcache import READ_CACHE, respond


@web.middleware
async def cached_reads(request: web.Request, handler):
    started = time.perf_counter()
    entry = await request.app[READ_CACHE].shortcut(request)
    if entry is None:
        return await handler(request)
    request[REQUEST_ID] = new_request_id()
    if request.app[CONFIG].privacy.access_log_addresses == "truncate":  # the only reader of the client here
        remember_client(request)
    metrics.count_read("hit")
    response = respond(request, entry)
    counting.count(request, response)
    metrics.observe_request(route_name(request), time.perf_counter() - started)
    return response
