"""The editors' view of feed imports: which feeds are polled, when, and why one is broken. (The worker
starts the poll chain, with the other periodic jobs; see `bridge.handlers`.)"""

from __future__ import annotations

from aiohttp import web

from bridge.publishing import feedimport
from bridge.appkeys import CONFIG, SESSIONS
from bridge.store.models import Role
from bridge.web.guards import require_user
from bridge.web.public.views import date_label
from bridge.web.render import render


def setup(app: web.Application) -> None:
    app.router.add_get("/editor/imports", imports_page, name="feed_imports")


async def imports_page(request: web.Request) -> web.StreamResponse:
    require_user(request, (Role.ADMIN, Role.EDITOR))
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        states = await feedimport.import_states(session, config)
    rows = []
    for actor_name, url, state in states:
        rows.append({
            "actor": actor_name, "url": url, "state": state,
            "broken": state is not None and state.last_reason in feedimport.BROKEN,
            "polled": date_label(state.last_polled_at, config) if state and state.last_polled_at else None,
            "success": date_label(state.last_success_at, config) if state and state.last_success_at else None,
        })
    return render(request, "public_imports.html", {"rows": rows})
