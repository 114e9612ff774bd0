"""`GET /api/v1/instance` and `/api/v2/instance`: who this server is and the limits it enforces.

Public, as in Mastodon: clients read the limits before they sign in.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.config.model import Config
from bridge.convert.mastodon import InstanceFacts, actor_to_account, instance_v1, instance_v2
from bridge.store.models import Actor, Post, PostState
from bridge.web.api.accounts import account_stats


def stadtbote_version() -> str:
    try:
        return version("stadtbote")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


async def _facts(session: AsyncSession, config: Config, uris: Uris) -> InstanceFacts:
    accounts = len(config.actors)  # the configured accounts; the instance actor is not one
    statuses = await session.scalar(select(func.count(Post.id)).where(Post.state == PostState.PUBLISHED)) or 0
    contact = None
    first = config.actors[0] if config.actors else None
    actor = await session.scalar(select(Actor).where(Actor.name == first.name)) if first else None
    if actor is not None:  # the first configured account speaks for the authority
        contact = actor_to_account(actor, first, uris, await account_stats(session, actor.id))
    return InstanceFacts(stadtbote_version(), accounts, statuses, contact)


async def _instance(request: web.Request, render) -> web.Response:
    config = request.app[CONFIG]
    uris = Uris.for_base(config.instance.base_url)
    async with request.app[SESSIONS]() as session:
        facts = await _facts(session, config, uris)
    return web.json_response(render(config, uris, facts), headers={"Cache-Control": "public, max-age=60"})


async def show_instance_v1(request: web.Request) -> web.Response:
    return await _instance(request, instance_v1)


async def show_instance_v2(request: web.Request) -> web.Response:
    return await _instance(request, instance_v2)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/instance", show_instance_v1)
    app.router.add_get("/api/v2/instance", show_instance_v2)
