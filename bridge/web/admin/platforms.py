"""The admin's platform accounts under /admin/platforms: their state, the last send, a check on demand."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.auth.users import user_ref
from bridge.platforms.health import check_account
from bridge.platforms.status import health_of, latest_per_platform, views_of
from bridge.store.db import utcnow
from bridge.store.models import Role
from bridge.store.platforms import PlatformAccount
from bridge.web.guards import require_user, see_other
from bridge.web.render import render


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/platforms", admin_platforms, name="admin_platforms")
    app.router.add_post("/admin/platforms/{platform}/check", check_platform)


async def admin_platforms(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=(Role.ADMIN,))
    config = request.app[CONFIG]
    now = utcnow()
    async with request.app[SESSIONS]() as session:
        accounts = {a.platform_id: a for a in (await session.scalars(select(PlatformAccount))).all()}
        latest = await views_of(session, await latest_per_platform(session, [p.id for p in config.platforms]), now)
    return render(request, "admin_platforms.html", {
        "platforms": config.platforms, "accounts": accounts, "now": now,
        "health": {p.id: health_of(accounts.get(p.id), now) for p in config.platforms},
        "latest": {v.platform_id: v for v in latest}})


async def check_platform(request: web.Request) -> web.StreamResponse:
    """Checks the credentials now; a reconnected account gets its refused sends queued again."""
    user = require_user(request, roles=(Role.ADMIN,))
    config = request.app[CONFIG]
    platform = next((p for p in config.platforms if p.id == request.match_info["platform"]), None)
    if platform is None:
        raise web.HTTPNotFound()
    async with request.app[SESSIONS]() as session:
        await check_account(session, request.app[FEDERATION], platform, utcnow, (user.role, user_ref(user)))
    raise see_other("/admin/platforms")
