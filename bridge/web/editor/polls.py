"""A poll from the editor's side: close it early, and download its results as CSV for the council."""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.polls import results_csv
from bridge.publishing.polls import PollReason, close_poll
from bridge.reach.figures import platform_polls
from bridge.store.db import utcnow
from bridge.store.models import Role, User
from bridge.store.polls import poll_of
from bridge.web.guards import load_post, require_user
from bridge.web.messages import N_

EDITORS = (Role.ADMIN, Role.EDITOR)
NO_POLL = N_("This post has no poll.")


async def close(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        if await poll_of(session, post) is None:
            raise web.HTTPNotFound(text=NO_POLL)
        reason = await close_poll(session, post, utcnow(), await session.get(User, user.id))
        if reason is PollReason.NOT_ALLOWED:
            raise web.HTTPForbidden(text=N_("You may not post as this account."))
        await session.commit()
    raise web.HTTPSeeOther(f"/editor/posts/{post.id}#poll-{post.id}")


async def download(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        poll = await poll_of(session, post)
        if poll is None:
            raise web.HTTPNotFound(text=NO_POLL)
        now = utcnow()
        body = results_csv(poll, now, await platform_polls(session, request.app[CONFIG], poll, now))
    return web.Response(text=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="umfrage-{post.id}.csv"', "Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    app.router.add_post("/editor/posts/{post_id:\\d+}/poll/close", close)
    app.router.add_get("/editor/posts/{post_id:\\d+}/poll.csv", download)
