"""The city's warnings for readers and for other systems: `/warnings` (current and recent), `/warnings/{id}`
(one warning with its CAP fields), `/warnings/{id}.cap` (its CAP 1.2 document) and `/warnings.atom` (an Atom
index of those documents, each embedded, so one fetch gives every current warning)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.warnings import CAP_TYPE, atom_index, cap_document
from bridge.store.db import utcnow
from bridge.store.models import Actor, Post, PostState
from bridge.store.warnings import OfficialWarning
from bridge.warnings.lane import CURRENT, current_warnings
from bridge.web.messages import N_
from bridge.web.public.views import int_cursor, not_found, public_page, uris_for

RECENT = 50  # warnings on the page and in the feed: current ones and the latest lifted ones


def setup(app: web.Application) -> None:
    app.router.add_get("/warnings", warnings_page, name="public_warnings")
    app.router.add_get("/warnings.atom", warnings_atom, name="public_warnings_atom")
    app.router.add_get(r"/warnings/{id:\d{1,12}}", warning_page, name="public_warning")
    app.router.add_get(r"/warnings/{id:\d{1,12}}.cap", warning_cap, name="public_warning_cap")


async def warnings_page(request: web.Request) -> web.StreamResponse:
    async with request.app[SESSIONS]() as session:
        found = await current_warnings(session, RECENT)
    uris = uris_for(request)
    context = {"current": [w for w in found if w.state in CURRENT],
               "recent": [w for w in found if w.state not in CURRENT],
               "canonical": uris.url("/warnings"), "atom_url": uris.url("/warnings.atom")}
    return public_page(request, "public_warnings.html", context)


async def _warning(request: web.Request) -> OfficialWarning | None:
    warning_id = int_cursor(request.match_info["id"])
    if warning_id is None:
        return None
    async with request.app[SESSIONS]() as session:
        return await session.get(OfficialWarning, warning_id)


async def warning_page(request: web.Request) -> web.StreamResponse:
    warning = await _warning(request)
    if warning is None:
        return not_found(request, N_("There is no warning with this number here."))
    uris = uris_for(request)
    async with request.app[SESSIONS]() as session:
        rows = (await session.execute(select(Post.id, Actor.name).join(Actor, Post.actor_id == Actor.id).where(
            Post.id.in_(warning.post_ids or [-1]), Post.state == PostState.PUBLISHED))).all()
        links = [uris.permalink(name, str(post_id)) for post_id, name in rows]
    context = {"warning": warning, "fields": warning.fields, "current": warning.state in CURRENT, "posts": links,
               "cap_url": uris.url(f"/warnings/{warning.id}.cap"), "canonical": uris.url(f"/warnings/{warning.id}")}
    return public_page(request, "public_warning.html", context)


async def warning_cap(request: web.Request) -> web.StreamResponse:
    warning = await _warning(request)
    if warning is None:
        return web.Response(status=404, text="not found")
    return web.Response(body=cap_document(warning.fields), content_type=CAP_TYPE, charset="utf-8",
                        headers={"Cache-Control": "public, max-age=60"})


async def warnings_atom(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    uris = uris_for(request)
    async with request.app[SESSIONS]() as session:
        found = await current_warnings(session, RECENT)
    entries = [(uris.url(f"/warnings/{w.id}"), uris.url(f"/warnings/{w.id}.cap"), w.headline, w.updated_at, w.fields)
               for w in found]
    updated = max((w.updated_at for w in found), default=utcnow())
    body = atom_index(uris.url("/warnings.atom"), f"Warnungen – {config.instance.name}", config.instance.name,
                      updated, entries)
    return web.Response(body=body, content_type="application/atom+xml", charset="utf-8",
                        headers={"Cache-Control": "public, max-age=60"})
