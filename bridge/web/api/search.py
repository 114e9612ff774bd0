"""`GET /api/v2/search` and `GET /api/v1/accounts/search`: this server's accounts, published posts and
hashtags. Nothing is looked up on other servers: `resolve=true` (which apps send whenever someone is signed
in) finds only what is here, as `resolve=false` does, so a search never makes this server fetch a stranger's
address. An address of this server (a post's permalink or note URI, a profile or actor URI) finds what it
names, as Mastodon's resolving does for local addresses.
"""

from __future__ import annotations

import re

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.config.model import ActorConfig, Config
from bridge.convert.mastodon import actor_to_account, post_to_status
from bridge.publishing.timeline import load, normalize_tag
from bridge.store.feeds import PostTag
from bridge.store.models import Actor, Post, PostState
from bridge.web.api.accounts import PRIVATE, account_stats
from bridge.web.api.request import MAX_ID, Params, api_error, authorize, read_params
from consent.interactions import count_for

TYPES = ("accounts", "statuses", "hashtags")
DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET = 20, 40, 10_000
MAX_QUERY = 200
# Paths of this server that name an account or a post: /@name, /@name/ID, /users/name, /users/name/statuses/ID.
LOCAL_PATH = re.compile(r"^/(?:@|users/)([A-Za-z0-9_]+)(?:/(?:statuses/)?([0-9]+))?/?$")


def _number(raw: str | None, default: int, maximum: int, name: str) -> int:
    if raw in (None, ""):
        return default
    if not raw.isdecimal():
        raise api_error(400, f"{name} must be a whole number", f"bad_{name}")
    return min(int(raw), maximum)


def _like(text: str) -> str:
    """A LIKE pattern for `text` anywhere, with LIKE's own characters taken literally."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _page(params: Params) -> tuple[int, int]:
    limit = max(_number(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT, "limit"), 1)
    return limit, _number(params.get("offset"), 0, MAX_OFFSET, "offset")


def _local(query: str, base_url: str) -> tuple[str, int | None] | None:
    """(account name, post id or None) for an address of this server, else None."""
    base = base_url.rstrip("/")
    if not query.startswith(base + "/"):
        return None
    match = LOCAL_PATH.match(query[len(base):].split("?", 1)[0])
    if match is None:
        return None
    post_id = int(match.group(2)) if match.group(2) and int(match.group(2)) <= MAX_ID else None
    return match.group(1), post_id


def _matching_accounts(config: Config, query: str) -> list[ActorConfig]:
    """Accounts whose name or display name contains the query (`@name` and `name@this-host` as well)."""
    local = _local(query, config.instance.base_url)
    if local is not None:
        found = config.actor(local[0])
        return [found] if found is not None and local[1] is None else []
    name, _, host = query.lstrip("@").partition("@")
    if host and host != Uris.for_base(config.instance.base_url).host:
        return []
    return [a for a in config.actors if name.lower() in a.name.lower() or query.lower() in a.display_name.lower()]


async def _accounts(session: AsyncSession, config: Config, query: str, limit: int, offset: int) -> list[dict]:
    hits = _matching_accounts(config, query)[offset:offset + limit]
    rows = {a.name: a for a in (await session.scalars(select(Actor).where(Actor.name.in_([h.name for h in hits])))).all()}
    uris = Uris.for_base(config.instance.base_url)
    return [actor_to_account(rows[h.name], h, uris, await account_stats(session, rows[h.name].id))
            for h in hits if h.name in rows]


async def _statuses(session: AsyncSession, config: Config, query: str, limit: int, offset: int) -> list[dict]:
    wanted = select(Post.id).where(Post.state == PostState.PUBLISHED)
    local = _local(query, config.instance.base_url)
    if local is not None:  # the post an address of this server names, if published and of that account
        wanted = wanted.join(Actor, Actor.id == Post.actor_id).where(Post.id == (local[1] or -1), Actor.name == local[0])
    else:
        wanted = wanted.where(func.lower(Post.text).like(_like(query), escape="\\"))
    ids = list((await session.scalars(wanted.order_by(Post.id.desc()).offset(offset).limit(limit))).all())
    posts = await load(session, ids)
    stats = {i: await account_stats(session, i) for i in {p.actor_id for p in posts}}
    counts = await count_for(session, ids)
    uris = Uris.for_base(config.instance.base_url)
    return [post_to_status(p, config, uris, stats[p.actor_id], counts=counts[p.id]) for p in posts]


async def _hashtags(session: AsyncSession, config: Config, query: str, limit: int, offset: int) -> list[dict]:
    tag = normalize_tag(query)
    if not tag or _local(query, config.instance.base_url) is not None:
        return []
    tags = (await session.scalars(
        select(PostTag.tag).join(Post, Post.id == PostTag.post_id)
        .where(Post.state == PostState.PUBLISHED, PostTag.tag.like(_like(tag), escape="\\"))
        .group_by(PostTag.tag).order_by(PostTag.tag).offset(offset).limit(limit))).all()
    uris = Uris.for_base(config.instance.base_url)
    return [{"name": t, "url": uris.tag(t), "history": [], "following": False} for t in tags]


FINDERS = {"accounts": _accounts, "statuses": _statuses, "hashtags": _hashtags}


async def search(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        await authorize(request, session, required=False)
        params = await read_params(request)
        query = (params.get("q") or "").strip()[:MAX_QUERY]
        wanted = params.get("type") or None
        if wanted not in (None, *TYPES):
            raise api_error(400, "type must be accounts, statuses or hashtags", "bad_type")
        limit, offset = _page(params)
        body = {kind: (await find(session, config, query, limit, offset) if query and wanted in (None, kind) else [])
                for kind, find in FINDERS.items()}
        await session.commit()  # keeps the token's last_used_at
    return web.json_response(body, headers=PRIVATE)


async def search_accounts(request: web.Request) -> web.Response:
    """`accounts/search`, which composers call for @-completion."""
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        await authorize(request, session)
        params = await read_params(request)
        query = (params.get("q") or "").strip()[:MAX_QUERY]
        limit, offset = _page(params)
        body = await _accounts(session, config, query, limit, offset) if query else []
        await session.commit()
    return web.json_response(body, headers=PRIVATE)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v2/search", search)
    app.router.add_get("/api/v1/accounts/search", search_accounts)
