"""`/@name.ics`: an account's events as an iCalendar feed (RFC 5545) for calendar apps; public, no cookies."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.events import calendar
from bridge.store.events import PostEvent
from bridge.store.models import Actor, Post, PostState
from bridge.web.messages import N_
from bridge.web.public.views import uris_for

MAX_EVENTS = 500


async def account_calendar(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    actor_config = request.app[CONFIG].actor(name)
    if actor_config is None:
        raise web.HTTPNotFound(text=N_("No such account."))
    async with request.app[SESSIONS]() as session:
        rows = (await session.execute(
            select(Post, PostEvent).join(PostEvent, PostEvent.post_id == Post.id).join(Actor, Actor.id == Post.actor_id)
            .where(Actor.name == name, Post.state == PostState.PUBLISHED)
            .order_by(PostEvent.starts_at.desc()).limit(MAX_EVENTS))).all()
    body = calendar([(post, event) for post, event in rows], uris_for(request), name, actor_config.display_name)
    return web.Response(body=body, content_type="text/calendar", charset="utf-8",
                        headers={"Cache-Control": "public, max-age=300"})


def setup(app: web.Application) -> None:
    app.router.add_get(r"/@{name:[a-z0-9_]{1,30}}.ics", account_calendar, name="account_calendar")
