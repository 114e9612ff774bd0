"""Counting readers without watching them: one view per public page and day, and the subscriber numbers
feed aggregators announce in their user agents. Nothing about the reader is stored or logged: no address,
cookie, user agent or referrer; `DNT: 1` or `Sec-GPC: 1` is not counted. The counts live in memory
(`runtime.pageviews`) and a timer writes them to the database (`flush_loop`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from aiohttp import web

from bridge.appkeys import CONFIG, PAGE_COUNTER, SESSIONS
from bridge.reach.counters import aggregator_of, flush_page_views, record_subscribers
from bridge.runtime.pageviews import PageCounter, opted_out

log = logging.getLogger("stadtbote.reach")
PAGES = frozenset({"public_home", "public_profile", "post_permalink", "public_tag"})
FEEDS = frozenset({"account_feed", "tag_feed", "instance_feed"})
PAGES_AND_FEEDS = PAGES | FEEDS
FLUSH_SECONDS = 60


@web.middleware
async def count_readers(request: web.Request, handler) -> web.StreamResponse:
    response = await handler(request)
    count(request, response)
    return response


def count(request: web.Request, response: web.StreamResponse) -> None:
    """One reader of a page or an aggregator's subscribers, from an answer however it was made."""
    counter = request.app.get(PAGE_COUNTER)
    route = request.match_info.route.name
    if counter is None or request.method != "GET" or route not in PAGES_AND_FEEDS:
        return
    if route in FEEDS and response.status in (200, 304):
        announced = aggregator_of(request.headers.get("User-Agent", ""))
        if announced is not None:  # only the aggregator's name and its number; the rest is dropped
            counter.announce(request.path, _today(request), *announced)
    elif (route in PAGES and response.status == 200 and response.content_type == "text/html"
          and not opted_out(request.headers)):
        counter.count(request.path, _today(request))


def _today(request: web.Request):
    return datetime.now(request.app[CONFIG].tz).date()


async def flush(app: web.Application) -> None:
    counter = app[PAGE_COUNTER]
    views, announced = counter.drain(), counter.drain_subscribers()
    if not views and not announced:
        return
    try:
        async with app[SESSIONS].begin() as session:
            await flush_page_views(session, views)
            for (feed, day, aggregator), subscribers in announced.items():
                await record_subscribers(session, feed, day, aggregator, subscribers)
    except Exception as exc:  # the database is away: keep the counts for the next try
        log.warning("reach flush failed reason=%s", exc.__class__.__name__)
        counter.restore(views)
        for (feed, day, aggregator), subscribers in announced.items():
            counter.announce(feed, day, aggregator, subscribers)


async def flush_loop(app: web.Application):
    """cleanup_ctx: counts go to the database every minute, and once more when the server stops."""
    app[PAGE_COUNTER] = PageCounter()

    async def run() -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await flush(app)

    task = asyncio.create_task(run(), name="stadtbote-reach-flush")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await flush(app)
