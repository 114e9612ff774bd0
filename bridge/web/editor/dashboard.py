"""The editor's dashboard (accounts and the approval queue) and the post list per account."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bridge.appkeys import CONFIG, SESSIONS
from bridge.store.models import Actor, Post, PostState, Role
from bridge.auth.users import allowed_actors
from bridge.publishing.edits import posts_with_waiting_edits, waiting_edits
from bridge.platforms.status import recent_sends, views_of
from bridge.publishing.posts import list_posts
from bridge.store.db import utcnow
from bridge.web.editor import compose, dialogue, events, polls, reach, review
from bridge.web import filters
from bridge.web.guards import int_param, require_user
from bridge.web.messages import N_
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
PAGE_SIZE = 25
RECENT_SENDS = 10  # the dashboard's "Platforms": the latest sends of the editor's accounts
STATES = tuple(PostState)


async def dashboard(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    names = allowed_actors(config, user)
    async with request.app[SESSIONS]() as session:
        waiting = list((await session.scalars(
            select(Post).join(Actor).where(Actor.name.in_(names), Post.state == PostState.AWAITING_APPROVAL)
            .order_by(Post.id)
        )).all()) if names else []
        edits = await waiting_edits(session, names)
        recent = await recent_sends(session, names, RECENT_SENDS) if names and config.platforms else []
        views = await views_of(session, [send for send, _ in recent], utcnow())
    return render(request, "dashboard.html", {
        "actors": [config.actor(n) for n in names],
        "to_review": [p for p in waiting if p.author_id != user.id],
        "own_waiting": [p for p in waiting if p.author_id == user.id],
        "edits_to_review": [(e, p) for e, p in edits if e.editor_id != user.id],
        "own_edits": [(e, p) for e, p in edits if e.editor_id == user.id],
        "sends": [(view, post) for view, (_, post) in zip(views, recent)],
    })


async def actor_posts(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    actor = config.actor(request.match_info["actor"])
    if actor is None:
        raise web.HTTPNotFound(text=N_("No such account."))
    if actor.name not in allowed_actors(config, user):
        raise web.HTTPForbidden(text=N_("You may not post as this account."))
    state = request.query.get("state") or None
    if state not in (None, *STATES):
        state = None
    before = int_param(request.query.get("before"))
    async with request.app[SESSIONS]() as session:
        found = await list_posts(session, actor.name, state, limit=PAGE_SIZE + 1, before_id=before)
        page, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
        edited = await posts_with_waiting_edits(session, [p.id for p in page])
    return render(request, "post_list.html", {
        "actor": actor, "posts": page, "state": state, "states": STATES, "edit_waits": edited,
        "older": page[-1].id if more else None, "paged": before is not None,
    })


def setup(app: web.Application) -> None:
    filters.install(app)
    app.router.add_get("/editor", dashboard, name="dashboard")
    app.router.add_get("/editor/actors/{actor}", actor_posts, name="actor_posts")
    compose.setup(app)
    review.setup(app)
    dialogue.setup(app)
    polls.setup(app)
    reach.setup(app)
    events.setup(app)
