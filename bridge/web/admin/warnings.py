"""The admin's view of the official warning sources under /admin/warnings: each source's last poll, its result
(with the reason code of a failure) and the next poll."""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG, SESSIONS
from bridge.store.models import Role
from bridge.warnings.polls import source_states
from bridge.web.guards import require_user
from bridge.web.render import render


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/warnings", admin_warnings, name="admin_warnings")


async def admin_warnings(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=(Role.ADMIN,))
    async with request.app[SESSIONS]() as session:
        states = await source_states(session, request.app[CONFIG])
    return render(request, "admin_warnings.html", {"sources": states})
