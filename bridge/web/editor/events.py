"""An event from the editor's side: change its when and where, or cancel it; both go out as an Update."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from bridge.appkeys import CONFIG, FORM, SESSIONS
from bridge.publishing.drafts import DraftField, PostReason, Refusal
from bridge.publishing.events import EventReason, change_event
from bridge.publishing.posts import needs_approval_of_edits
from bridge.store.db import utcnow
from bridge.store.events import PostEvent, event_of
from bridge.store.models import Post, Role, User
from bridge.web.editor.compose_form import ComposeForm, EventFields, event_fields, problems_of
from bridge.web.guards import load_post, require_user
from bridge.web.messages import N_, Problem, by_field
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
NO_EVENT = N_("This post announces no event.")
NOT_ALLOWED = N_("You may not post as this account.")


def fields_of(event: PostEvent) -> EventFields:
    """The stored event as the form shows it: times in the event's zone, as `datetime-local` wants them."""
    zone = ZoneInfo(event.timezone)

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""

    return EventFields(event.title, local(event.starts_at), local(event.ends_at), event.all_day, event.timezone,
                       event.place_name, event.street_address, event.postal_code, event.locality,
                       event.online_url)


def event_page(request: web.Request, post: Post, event: PostEvent, fields: EventFields,
               problems: list[Problem], status: int = 200) -> web.Response:
    return render(request, "editor_event.html", {"post": post, "event": event, "form": fields,
                                                 "problems": by_field(problems)}, status=status)


async def _load(request: web.Request, session, user: User) -> tuple[Post, PostEvent]:
    post = await load_post(request, session, user)
    event = await event_of(session, post)
    if event is None:
        raise web.HTTPNotFound(text=NO_EVENT)
    return post, event


async def show(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        post, event = await _load(request, session, user)
    return event_page(request, post, event, fields_of(event), [])


async def save(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    fields = event_fields(request[FORM], config.instance.timezone)
    problems, draft = fields.draft(config)
    async with request.app[SESSIONS]() as session:
        post, event = await _load(request, session, user)
        if draft is None:  # everything emptied: the event keeps its title and start, say so
            problems.append(Problem("event", N_("Give the event a title.")))
        else:
            reason, broken = await change_event(session, await session.get(User, user.id), post, draft, utcnow(),
                                                needs_approval=needs_approval_of_edits(config, post))
            if reason is EventReason.NOT_ALLOWED:
                raise web.HTTPForbidden(text=NOT_ALLOWED)
            refusals = [Refusal(PostReason(code), DraftField.EVENT, facts) for code, facts in broken]
            problems += problems_of(refusals, ComposeForm())
            # four-eyes: the change waits with the post's edits for a second editor
            if not problems and reason in (EventReason.OK, EventReason.AWAITING_APPROVAL):
                await session.commit()
                raise web.HTTPSeeOther(f"/editor/posts/{post.id}")
        return event_page(request, post, event, fields, problems, status=422)


async def cancel(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        post, _ = await _load(request, session, user)
        reason, _ = await change_event(session, await session.get(User, user.id), post, None, utcnow(),
                                       needs_approval=needs_approval_of_edits(request.app[CONFIG], post))
        if reason is EventReason.NOT_ALLOWED:
            raise web.HTTPForbidden(text=NOT_ALLOWED)
        await session.commit()
    raise web.HTTPSeeOther(f"/editor/posts/{post.id}")


def setup(app: web.Application) -> None:
    app.router.add_get("/editor/posts/{post_id:\\d+}/event", show)
    app.router.add_post("/editor/posts/{post_id:\\d+}/event", save)
    app.router.add_post("/editor/posts/{post_id:\\d+}/event/cancel", cancel)
