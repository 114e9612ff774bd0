"""RSS 2.0, Atom 1.0 and JSON Feed 1.1 per account, per hashtag and for the whole instance.

A request reads the versions of the newest 20 posts (one indexed, bounded query), computes the strong
ETag and Last-Modified from them, and answers 304 before anything is loaded or rendered. Only then are
the 20 posts loaded (two more statements) and rendered. Nothing here depends on how many posts exist.
Readers who are not signed in are answered from the read cache (`bridge.web.readcache`) while the
account's version stays the same; the queries above run once per version.
"""

from __future__ import annotations

import importlib

from datetime import datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.publishing import timeline
from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.feeds import actor_feed_meta, instance_feed_meta, post_to_feed_entry, tag_feed_meta
from bridge.store.models import Actor
from bridge.publishing.timeline import Scope
from bridge.web.messages import N_
from bridge.web.public.views import uris_for
from bridge.web.readcache import FILLING, Depends, answer
from feeds.http import cache_headers, etag_for, evaluate
from feeds.model import EPOCH, FeedKind, FeedMeta

FEED_SIZE = 20
# Bumped whenever the rendered form of an unchanged post changes, so that caches do not keep old bytes.
FORMAT_VERSION = "stadtbote-feeds-1"
KIND = r"{kind:(rss|atom|json)}"


def setup(app: web.Application) -> None:
    app.router.add_get(rf"/@{{name:[a-z0-9_]{{1,30}}}}.{KIND}", account_feed, name="account_feed")
    app.router.add_get(rf"/tags/{{tag:[^/.]{{1,100}}}}.{KIND}", tag_feed, name="tag_feed")
    app.router.add_get(rf"/feed.{KIND}", instance_feed, name="instance_feed")


async def account_feed(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    name, kind = request.match_info["name"], FeedKind(request.match_info["kind"])
    actor_config = config.actor(name)
    if actor_config is None:
        raise web.HTTPNotFound(text=N_("There is no account with this name here."))
    meta = actor_feed_meta(actor_config, config, uris_for(request), kind)

    async def render() -> web.StreamResponse:
        async with request.app[SESSIONS]() as session:
            actor_id = await session.scalar(select(Actor.id).where(Actor.name == name))
            if actor_id is None:
                raise web.HTTPNotFound(text=N_("There is no account with this name here."))
            return await serve_feed(request, session, Scope.account(actor_id), kind, meta)
    return await answer(request, ("feed", name, kind), Depends(account=name), render)


async def tag_feed(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    kind, scope = FeedKind(request.match_info["kind"]), Scope.hashtag(request.match_info["tag"])
    if not scope.tag:
        raise web.HTTPNotFound(text=N_("This is not a hashtag."))
    meta = tag_feed_meta(scope.tag, config, uris_for(request), kind)

    async def render() -> web.StreamResponse:
        async with request.app[SESSIONS]() as session:
            return await serve_feed(request, session, scope, kind, meta)
    return await answer(request, ("tag_feed", scope.tag, kind), Depends(instance=True), render)


async def instance_feed(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    kind = FeedKind(request.match_info["kind"])
    meta = instance_feed_meta(config, uris_for(request), kind)

    async def render() -> web.StreamResponse:
        async with request.app[SESSIONS]() as session:
            return await serve_feed(request, session, Scope.instance(), kind, meta)
    return await answer(request, ("instance_feed", kind), Depends(instance=True), render)


async def serve_feed(request: web.Request, session: AsyncSession, scope: Scope, kind: FeedKind,
                     meta: FeedMeta) -> web.Response:
    config = request.app[CONFIG]
    uris = uris_for(request)
    versions = await timeline.versions(session, scope, FEED_SIZE)
    etag = etag_for(kind, ((uris.note(v.actor_name, str(v.id)), v.changed) for v in versions),
                    meta=meta, salt=FORMAT_VERSION)
    last_modified = _last_modified(versions, await timeline.last_deletion(session, scope))
    headers = cache_headers(etag, last_modified, max_age=config.feeds.cache_seconds)
    if not request.get(FILLING) and evaluate(request.headers, etag, last_modified,
                                             method=request.method).not_modified:
        return web.Response(status=304, headers=headers)
    posts = await timeline.load(session, [v.id for v in versions])
    # feedgen and lxml (about 5 MB) load with the first feed rendered, not with every start.
    entries = [post_to_feed_entry(p, config, uris) for p in posts]
    body = importlib.import_module("feeds.render").render(kind, meta, entries)
    return web.Response(body=body, headers={**headers, "Content-Type": kind.media_type})


def _last_modified(versions: list[timeline.Version], deleted: datetime | None) -> datetime:
    # A deletion is a change of the feed too; without it, If-Modified-Since would keep the deleted post.
    changes = [v.changed for v in versions] + ([deleted] if deleted else [])
    return max(changes) if changes else EPOCH
