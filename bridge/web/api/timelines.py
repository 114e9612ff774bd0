"""Lists of statuses: `timelines/home` (the token's account's own posts: an authority's account follows
no one), `timelines/public` (the instance's posts; all are local) and `accounts/:id/statuses`.

Only published posts appear: what waits for its time or approval is in `scheduled_statuses`, and drafts
are the web form's. Pages and `Link` headers as Mastodon's (`bridge.web.api.pages`).
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.mastodon import post_to_status
from bridge.reach.figures import interaction_counts
from bridge.publishing.timeline import load, normalize_tag
from bridge.store.feeds import PostTag
from bridge.store.models import Media, Post, PostState
from bridge.web.api.accounts import PRIVATE, account_stats, configured_actor
from bridge.web.api.pages import Cursor, link_header, page_ids, read_cursor
from bridge.web.api.request import MAX_ROW_ID, Params, authorize, path_id, read_params

TRUE = ("1", "true", "on", "yes")
HOME_KEPT = ("local", "limit")  # the parameters Mastodon carries into its Link header, per endpoint
PUBLIC_KEPT = ("local", "remote", "limit", "only_media")
ACCOUNT_KEPT = ("limit", "only_media", "exclude_replies", "exclude_reblogs", "pinned", "tagged")


def _published() -> Select:
    return select(Post.id).where(Post.state == PostState.PUBLISHED)


def _flag(params: Params, name: str) -> bool:
    return (params.get(name) or "").lower() in TRUE


def _only_media(query: Select, params: Params) -> Select:
    if _flag(params, "only_media"):
        query = query.where(Post.id.in_(select(Media.post_id).where(Media.post_id.is_not(None))))
    return query


async def _statuses(request: web.Request, session: AsyncSession, query: Select, cursor: Cursor,
                    kept: tuple[str, ...]) -> web.Response:
    config = request.app[CONFIG]
    ids = await page_ids(session, query, Post.id, cursor)
    posts = await load(session, ids)
    stats = {actor_id: await account_stats(session, actor_id) for actor_id in {p.actor_id for p in posts}}
    counts = await interaction_counts(session, [p.id for p in posts])
    await session.commit()
    uris = Uris.for_base(config.instance.base_url)
    body = [post_to_status(p, config, uris, stats[p.actor_id], counts=counts[p.id]) for p in posts]
    return web.json_response(body, headers=PRIVATE | link_header(config.instance.base_url, request, ids, kept))


async def home(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        cursor = read_cursor(await read_params(request))
        query = _published().where(Post.actor_id == token.actor_id)
        return await _statuses(request, session, query, cursor, HOME_KEPT)


async def public(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        await authorize(request, session, required=False)
        params = await read_params(request)
        cursor = read_cursor(params)
        query = _only_media(_published(), params)
        if _flag(params, "remote"):  # no statuses of other servers are kept
            query = query.where(false())
        return await _statuses(request, session, query, cursor, PUBLIC_KEPT)


async def account_statuses(request: web.Request) -> web.Response:
    actor_id = path_id(request, MAX_ROW_ID)
    async with request.app[SESSIONS]() as session:
        await authorize(request, session, required=False)
        actor = await configured_actor(session, request.app[CONFIG], actor_id)
        params = await read_params(request)
        cursor = read_cursor(params)
        query = _only_media(_published().where(Post.actor_id == actor.id), params)
        if _flag(params, "pinned"):
            query = query.where(Post.pinned.is_(True))
        if _flag(params, "exclude_replies"):  # answers to citizens are replies to other servers' notes
            query = query.where(Post.in_reply_to.is_(None))
        if params.get("tagged"):
            query = _tagged(query, params.get("tagged"))
        return await _statuses(request, session, query, cursor, ACCOUNT_KEPT)


def _tagged(query: Select, tag: str) -> Select:
    return query.where(Post.id.in_(select(PostTag.post_id).where(PostTag.tag == normalize_tag(tag))))


async def tag_timeline(request: web.Request) -> web.Response:
    """`timelines/tag/:hashtag`: this server's published posts with the tag (`any[]`, `all[]`, `none[]` are
    not offered); apps open it when a hashtag is tapped."""
    async with request.app[SESSIONS]() as session:
        await authorize(request, session, required=False)
        params = await read_params(request)
        cursor = read_cursor(params)
        query = _only_media(_tagged(_published(), request.match_info["hashtag"]), params)
        if _flag(params, "remote"):
            query = query.where(false())
        return await _statuses(request, session, query, cursor, PUBLIC_KEPT)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/timelines/home", home)
    app.router.add_get("/api/v1/timelines/public", public)
    app.router.add_get("/api/v1/timelines/tag/{hashtag}", tag_timeline)
    app.router.add_get(r"/api/v1/accounts/{id:\d+}/statuses", account_statuses)
