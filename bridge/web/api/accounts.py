"""`GET /api/v1/accounts/verify_credentials`, and the account figures that Status entities show."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.mastodon import AccountStats, actor_to_account
from bridge.store.models import Post, PostState
from bridge.web.api.request import NOT_FOUND, api_error, authorize

PRIVATE = {"Cache-Control": "private, no-store"}  # answers for a token are never cached by proxies


async def account_stats(session: AsyncSession, actor_id: int) -> AccountStats:
    count, last = (await session.execute(
        select(func.count(Post.id), func.max(Post.published_at))
        .where(Post.actor_id == actor_id, Post.state == PostState.PUBLISHED))).one()
    return AccountStats(statuses_count=count or 0, last_status_at=last)


async def verify_credentials(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        stats = await account_stats(session, token.actor_id)
        await session.commit()  # keeps the token's last_used_at
    actor_config = config.actor(token.actor.name)
    if actor_config is None:  # the token's account was removed from the configuration
        raise api_error(404, NOT_FOUND)
    body = actor_to_account(token.actor, actor_config, Uris.for_base(config.instance.base_url), stats,
                            with_source=True, language=config.instance.language)
    return web.json_response(body, headers=PRIVATE)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/accounts/verify_credentials", verify_credentials)
