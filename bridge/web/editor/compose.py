"""Writing and editing posts through the web form; the post service does the deciding."""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG, FORM, SESSIONS
from bridge.config.model import LANGUAGES
from bridge.store.db import utcnow
from bridge.store.models import Post, PostState, Role, User
from bridge.publishing.posts import POST_TEXT, Draft, PostReason, create_post, edit_post
from bridge.auth.users import allowed_actors
from bridge.web.editor.compose_form import ComposeForm, ImageSlot, check_fields, parse_form
from bridge.web.editor.compose_media import apply_attached_alt, store_images
from bridge.web.filters import input_value
from bridge.web.guards import load_post, require_user
from bridge.web.messages import N_, Problem, by_field
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
# Where a refusal of the post service shows up in the form.
REASON_FIELD = {
    PostReason.EMPTY: "text", PostReason.TOO_LONG: "text", PostReason.CW_TOO_LONG: "spoiler_text",
    PostReason.SCHEDULE_IN_PAST: "publish_at", PostReason.INVALID_LANGUAGE: "language",
    PostReason.UNKNOWN_PLATFORM: "mirrors", PostReason.ACTOR_NOT_ALLOWED: "actor", PostReason.UNKNOWN_ACTOR: "actor",
}
NOT_ALLOWED = N_("You may not post as this account.")


def empty_slots(form: ComposeForm, count: int) -> ComposeForm:
    form.images += [ImageSlot(index=i) for i in range(len(form.images), count)]
    return form


def compose_page(request: web.Request, user: User, form: ComposeForm, problems: list[Problem],
                 post: Post | None = None, status: int = 200) -> web.Response:
    config = request.app[CONFIG]
    return render(request, "compose.html", {
        "form": form, "problems": by_field(problems), "post": post,
        "actors": [config.actor(n) for n in allowed_actors(config, user)],
        "limits": config.limits, "platforms": config.platforms, "languages": LANGUAGES,
        "schedule": post is None or post.state != PostState.PUBLISHED,
    }, status=status)


async def new_form(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    names = allowed_actors(config, user)
    wanted = request.query.get("actor", "")
    form = ComposeForm(actor=wanted if wanted in names else (names[0] if names else ""),
                       language=config.instance.language)
    return compose_page(request, user, empty_slots(form, config.limits.max_images), [])


async def new_submit(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    form = parse_form(request[FORM], config.limits.max_images)
    if form.actor not in allowed_actors(config, user):
        # Refused before anything is stored: no image of a foreign account is ever written.
        return compose_page(request, user, form, [Problem("actor", NOT_ALLOWED)], status=403)
    problems, scheduled_at = check_fields(form, config, utcnow())
    async with request.app[SESSIONS]() as session:
        problems += await store_images(session, config, user, form, None)
        await session.commit()
    if problems:
        return compose_page(request, user, form, problems, status=422)
    draft = _draft(form, scheduled_at)
    async with request.app[SESSIONS]() as session:
        result = await create_post(session, config, await session.get(User, user.id), draft)
        if result.ok:
            await session.commit()
    return _outcome(request, user, form, result)


def _draft(form: ComposeForm, scheduled_at) -> Draft:
    return Draft(actor=form.actor, text=form.text, spoiler_text=form.spoiler_text, language=form.language,
                 media_ids=form.media_ids(), scheduled_at=scheduled_at, mirrors=tuple(form.mirrors), via="web")


def _outcome(request: web.Request, user: User, form: ComposeForm, result, post: Post | None = None):
    if result.ok:
        raise web.HTTPSeeOther(f"/editor/posts/{result.post.id}")
    problem = Problem(REASON_FIELD.get(result.reason, ""), POST_TEXT[result.reason])
    status = 403 if result.reason is PostReason.ACTOR_NOT_ALLOWED else 422
    return compose_page(request, user, form, [problem], post, status=status)


def form_of(post: Post, config) -> ComposeForm:
    images = [ImageSlot(index=i, alt=m.alt, decorative=m.decorative, media_id=m.id, preview=m.filename)
              for i, m in enumerate(post.media)]
    scheduled = input_value(post.scheduled_at, config.tz)
    form = ComposeForm(actor=post.actor.name, text=post.text, spoiler_text=post.spoiler_text,
                       language=post.language, publish_at=scheduled if post.state != PostState.PUBLISHED else "",
                       mirrors=list(post.mirrors or []), images=images)
    return empty_slots(form, config.limits.max_images)


async def edit_form(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
    if post.state in (PostState.DELETED, PostState.FAILED):
        raise web.HTTPConflict(text=N_("This post can no longer be edited."))
    return compose_page(request, user, form_of(post, request.app[CONFIG]), [], post)


async def edit_submit(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    form = parse_form(request[FORM], config.limits.max_images)
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        form.actor = post.actor.name  # an edit never moves a post to another account
        problems, scheduled_at = check_fields(form, config, utcnow(), post.state != PostState.PUBLISHED)
        problems += await store_images(session, config, user, form, post)
        await session.commit()
    if problems:
        return compose_page(request, user, form, problems, post, status=422)
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        await apply_attached_alt(session, form, post)
        result = await edit_post(session, config, await session.get(User, user.id), post,
                                 _draft(form, scheduled_at))
        if result.ok:
            await session.commit()
    return _outcome(request, user, form, result, post)


def setup(app: web.Application) -> None:
    app.router.add_get("/editor/compose", new_form, name="compose")
    app.router.add_post("/editor/compose", new_submit)
    app.router.add_get("/editor/posts/{post_id:\\d+}/edit", edit_form, name="edit_post")
    app.router.add_post("/editor/posts/{post_id:\\d+}/edit", edit_submit)
