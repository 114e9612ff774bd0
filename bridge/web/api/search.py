"""`GET /api/v2/search`: this server's accounts, published posts and hashtags. Nothing is looked up on other
servers: `resolve=true` (which apps send whenever someone is signed in) finds only what is here, as
`resolve=false` does, so a search never makes this server fetch a stranger's address.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.mastodon import actor_to_account, post_to_status
from bridge.publishing.timeline import load, normalize_tag
from bridge.store.feeds import PostTag
from bridge.store.models import Actor, Post, PostState
from bridge.web.api.accounts import PRIVATE, account_stats
from bridge.web.api.request import api_error, authorize, read_params
from consent.interactions import count_for

TYPES = ("accounts", "statuses", "hashtags")
DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET = 20, 40, 10_000
MAX_QUERY = 200


def _number(raw: str | None, default: int, maximum: int, name: str) -> int:
    if raw in (None, ""):
        return default
    if not raw.isdecimal():
        raise api_error(400, f"{name} must be a whole number", f"bad_{name}")
    return min(int(raw), maximum)


def _like(text: str) -> str:
    """A LIKE pattern for `text` anywhere, with LIKE's own characters taken literally."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    uris = Uris.for_base(config.instance.base_url)
    params = await read_params(request)
    async with request.app[SESSIONS]() as session:
        await authorize(request, session, required=False)
        query = (params.get("q") or "").strip()[:MAX_QUERY]
        wanted = params.get("type")
        if wanted not in (None, "", *TYPES):
            raise api_error(400, "type must be accounts, statuses or hashtags", "bad_type")
        limit = max(_number(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT, "limit"), 1)
        offset = _number(params.get("offset"), 0, MAX_OFFSET, "offset")
        body = {"accounts": [], "statuses": [], "hashtags": []}
        if query and wanted in (None, "", "accounts"):
            name = query.lstrip("@").partition("@")[0].lower()
            hits = [a for a in config.actors if name in a.name.lower() or query.lower() in a.display_name.lower()]
            rows = {a.name: a for a in (await session.scalars(
                select(Actor).where(Actor.name.in_([h.name for h in hits])))).all()}
            for actor_config in hits[offset:offset + limit]:
                if actor_config.name in rows:
                    body["accounts"].append(actor_to_account(
                        rows[actor_config.name], actor_config, uris, await account_stats(session, rows[actor_config.name].id)))
        if query and wanted in (None, "", "statuses"):
            ids = list((await session.scalars(
                select(Post.id).where(Post.state == PostState.PUBLISHED,
                                      func.lower(Post.text).like(_like(query), escape="\\"))
                .order_by(Post.id.desc()).offset(offset).limit(limit))).all())
            posts = await load(session, ids)
            stats = {i: await account_stats(session, i) for i in {p.actor_id for p in posts}}
            counts = await count_for(session, ids)
            body["statuses"] = [post_to_status(p, config, uris, stats[p.actor_id], counts=counts[p.id]) for p in posts]
        tag = normalize_tag(query)
        if tag and wanted in (None, "", "hashtags"):
            tags = (await session.scalars(
                select(PostTag.tag).join(Post, Post.id == PostTag.post_id)
                .where(Post.state == PostState.PUBLISHED, PostTag.tag.like(_like(tag), escape="\\"))
                .group_by(PostTag.tag).order_by(PostTag.tag).offset(offset).limit(limit))).all()
            body["hashtags"] = [{"name": t, "url": uris.tag(t), "history": [], "following": False} for t in tags]
        await session.commit()  # keeps the token's last_used_at
    return web.json_response(body, headers=PRIVATE)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v2/search", search)
