"""Writing and editing posts through the web form; the post service does the deciding."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from bridge.appkeys import CONFIG, FORM, SESSIONS
from bridge.config.model import LANGUAGES
from bridge.store.db import utcnow
from bridge.store.models import MediaState, Post, PostState, Role, User
from bridge.publishing.edits import Proposal, load_proposal
from bridge.publishing.posts import (Description, Draft, PostReason, PostResult, check_draft, create_post,
                                     edit_post, needs_approval_of_edits)
from bridge.auth.users import allowed_actors, postable_actors
from bridge.web.editor.compose_form import (POLL_DURATIONS, ComposeForm, ImageSlot, VideoSlot, parse_form,
                                            problems_of, read_schedule)
from bridge.web.editor.compose_media import store_images
from bridge.web.filters import input_value
from bridge.web.guards import load_post, require_user
from bridge.web.messages import N_, Problem, by_field
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
NOT_ALLOWED = N_("You may not post as this account.")


def empty_slots(form: ComposeForm, count: int) -> ComposeForm:
    form.images += [ImageSlot(index=i) for i in range(len(form.images), count)]
    return form


def compose_page(request: web.Request, user: User, form: ComposeForm, problems: list[Problem],
                 post: Post | None = None, status: int = 200) -> web.Response:
    config = request.app[CONFIG]
    return render(request, "compose.html", {
        "form": form, "problems": by_field(problems), "post": post,
        "actors": [config.actor(n) for n in postable_actors(config, user)],
        "limits": config.limits, "platforms": config.platforms, "languages": LANGUAGES,
        "schedule": post is None or post.state != PostState.PUBLISHED,
        "edit_waits": post is not None and needs_approval_of_edits(config, post),
        "poll_durations": POLL_DURATIONS,
    }, status=status)


async def new_form(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    names = postable_actors(config, user)
    wanted = request.query.get("actor", "")
    form = ComposeForm(actor=wanted if wanted in names else (names[0] if names else ""),
                       language=config.instance.language)
    form.event.timezone = config.instance.timezone
    return compose_page(request, user, empty_slots(form, config.limits.max_images), [])


async def new_submit(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    form = parse_form(request[FORM], config.limits.max_images, config.instance.timezone)
    if form.actor not in allowed_actors(config, user):
        # Refused before anything is stored: no image of a foreign account is ever written.
        return compose_page(request, user, form, [Problem("actor", NOT_ALLOWED)], status=403)
    problems, scheduled_at = read_schedule(form, config)
    event_problems, event = form.event.draft(config)
    problems += event_problems
    async with request.app[SESSIONS]() as session:
        problems += await store_images(session, config, user, form, None)
        await session.commit()
    async with request.app[SESSIONS]() as session:
        author, draft = await session.get(User, user.id), replace(_draft(form, scheduled_at), event=event)
        if problems:  # the form comes back: with every other reason too, so that one round fixes all
            return await _refused(request, session, user, form, problems, draft)
        result = await create_post(session, config, author, draft)
        if result.ok:
            await session.commit()
    return _outcome(request, user, form, result)


async def _refused(request: web.Request, session, user: User, form: ComposeForm, problems: list[Problem],
                   draft: Draft, post: Post | None = None) -> web.Response:
    check = await check_draft(session, request.app[CONFIG], await session.get(User, user.id), draft, utcnow(), post)
    return compose_page(request, user, form, problems + problems_of(check.refusals, form), post, status=422)


def _draft(form: ComposeForm, scheduled_at) -> Draft:
    descriptions = tuple(Description(s.media_id, s.alt, s.decorative) for s in form.images
                         if s.used and s.media_id is not None)
    if form.video.used and form.video.media_id is not None:
        descriptions += (Description(form.video.media_id, form.video.description),)
    return Draft(actor=form.actor, text=form.text, spoiler_text=form.spoiler_text, language=form.language,
                 media_ids=form.media_ids(), scheduled_at=scheduled_at, mirrors=tuple(form.mirrors), via="web",
                 descriptions=descriptions, poll=form.poll())


def _outcome(request: web.Request, user: User, form: ComposeForm, result: PostResult, post: Post | None = None):
    if result.ok:
        raise web.HTTPSeeOther(f"/editor/posts/{result.post.id}")
    status = 403 if result.reason is PostReason.ACTOR_NOT_ALLOWED else 422
    return compose_page(request, user, form, problems_of(list(result.refusals), form), post, status=status)


def form_of(post: Post, config, proposal: Proposal | None = None) -> ComposeForm:
    """The form for an edit: the post as it is, or the edit its editor proposed and may rework."""
    if proposal is not None:
        edit = proposal.edit
        images = [ImageSlot(index=i, alt=p.alt, decorative=p.decorative, media_id=p.media.id,
                            preview=p.media.filename) for i, p in enumerate(proposal.images) if not p.media.is_video]
        form = ComposeForm(actor=post.actor.name, text=edit.text, spoiler_text=edit.spoiler_text,
                           language=edit.language, mirrors=list(post.mirrors or []), images=images,
                           video=next((_video_slot(p.media, p.alt) for p in proposal.images if p.media.is_video),
                                      VideoSlot()))
        return empty_slots(form, config.limits.max_images)
    images = [ImageSlot(index=i, alt=m.alt, decorative=m.decorative, media_id=m.id, preview=m.filename)
              for i, m in enumerate(post.media) if not m.is_video]
    scheduled = input_value(post.scheduled_at, config.tz)
    form = ComposeForm(actor=post.actor.name, text=post.text, spoiler_text=post.spoiler_text,
                       language=post.language, publish_at=scheduled if post.state != PostState.PUBLISHED else "",
                       mirrors=list(post.mirrors or []), images=images,
                       video=next((_video_slot(m, m.alt) for m in post.media if m.is_video), VideoSlot()))
    return empty_slots(form, config.limits.max_images)


def _video_slot(media, description: str) -> VideoSlot:
    return VideoSlot(description=description, no_speech=media.no_speech, media_id=media.id,
                     has_captions=bool(media.captions_filename), poster=media.poster_filename,
                     processing=media.state == MediaState.PROCESSING)


async def edit_form(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        proposal = await load_proposal(session, post)
    if post.state in (PostState.DELETED, PostState.FAILED):
        raise web.HTTPConflict(text=N_("This post can no longer be edited."))
    return compose_page(request, user, form_of(post, request.app[CONFIG], proposal), [], post)


async def edit_submit(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    form = parse_form(request[FORM], config.limits.max_images)
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        form.actor = post.actor.name  # an edit never moves a post to another account
        problems, scheduled_at = read_schedule(form, config, post.state != PostState.PUBLISHED)
        problems += await store_images(session, config, user, form, post)
        await session.commit()
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        draft = _draft(form, scheduled_at)
        if problems:
            return await _refused(request, session, user, form, problems, draft, post)
        result = await edit_post(session, config, await session.get(User, user.id), post, draft)
        if result.ok:
            await session.commit()
    return _outcome(request, user, form, result, post)


def setup(app: web.Application) -> None:
    app.router.add_get("/editor/compose", new_form, name="compose")
    app.router.add_post("/editor/compose", new_submit)
    app.router.add_get("/editor/posts/{post_id:\\d+}/edit", edit_form, name="edit_post")
    app.router.add_post("/editor/posts/{post_id:\\d+}/edit", edit_submit)
