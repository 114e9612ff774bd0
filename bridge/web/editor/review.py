"""The post page and what can be done with a post from there: approve, return, delete, pin; for a
published post of a four-eyes account also its waiting edit, shown beside the published text."""

from __future__ import annotations

import difflib
import re

from aiohttp import web

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, FORM, SESSIONS
from bridge.store.models import Post, PostState, Role, User
from bridge.publishing.edits import Proposal, load_proposal
from bridge.publishing.events import draft_of
from bridge.publishing.posts import approve_post, content_sha256, delete_post, pin_post, return_post
from bridge.convert.polls import results
from bridge.convert.text import parse_text, render_html
from bridge.store.db import utcnow
from bridge.store.events import loaded_event
from bridge.store.polls import loaded_poll
from bridge.reach.figures import platform_polls
from bridge.web.public.views import date_label, event_view
from bridge.web.guards import load_post, require_user
from bridge.web.messages import N_
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
NEEDS_COMMENT = N_("Tell the author what to change: the comment is required.")
EDITABLE = (PostState.DRAFT, PostState.AWAITING_APPROVAL, PostState.SCHEDULED, PostState.PUBLISHED)


def post_html(post: Post, base_url: str) -> str:
    return text_html(post.text, base_url)


def text_html(text: str, base_url: str) -> str:
    uris = Uris.for_base(base_url)

    def mention(acct: str) -> str:
        name, _, host = acct.partition("@")
        return uris.profile(name) if not host or host == uris.host else f"https://{host}/@{name}"

    return render_html(parse_text(text, uris.host), uris.tag, mention)


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The change from `old` to `new` word by word: pieces marked "same", "removed" or "added"."""
    before, after = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("removed", "".join(before[i1:i2])))
        if j2 > j1:
            pieces.append(("added", "".join(after[j1:j2])))
    return pieces


def post_page(request: web.Request, user: User, post: Post, proposal: Proposal | None, problem: str | None = None,
              status: int = 200, confirm_delete: bool = False, platform_votes: tuple = ()) -> web.Response:
    config = request.app[CONFIG]
    base_url = config.instance.base_url
    return render(request, "post.html", {
        "post": post, "html": post_html(post, base_url),
        "sha256": content_sha256(post), "problem": problem, "confirm_delete": confirm_delete,
        "may_review": post.state == PostState.AWAITING_APPROVAL and post.author_id != user.id,
        "may_edit": post.state in EDITABLE, "may_delete": post.state != PostState.DELETED,
        "proposal": proposal, "may_review_edit": proposal is not None and proposal.pending
        and proposal.edit.editor_id != user.id,
        "edit_html": text_html(proposal.edit.text, base_url) if proposal else "",
        "diff": word_diff(post.text, proposal.edit.text) if proposal else [],
        "proposed_event": draft_of(proposal.edit.event) if proposal and proposal.edit.event else None,
        "poll": results(poll, utcnow()) if (poll := loaded_poll(post)) is not None else None,
        "event": event_view(event, post.actor.name, Uris.for_base(base_url))
        if (event := loaded_event(post)) is not None else None,
        "platform_polls": [(p, date_label(p.fetched_at, config)) for p in platform_votes],
    }, status=status)


async def _load(request: web.Request, session, user: User) -> tuple[Post, Proposal | None]:
    post = await load_post(request, session, user)
    return post, await load_proposal(session, post)


async def show(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        post, proposal = await _load(request, session, user)
        poll = loaded_poll(post)
        votes = await platform_polls(session, request.app[CONFIG], poll, utcnow()) if poll is not None else ()
    return post_page(request, user, post, proposal, platform_votes=votes)


async def confirm_delete(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        post, proposal = await _load(request, session, user)
    return post_page(request, user, post, proposal, confirm_delete=post.state != PostState.DELETED)


async def _act(request: web.Request, action) -> web.StreamResponse:
    """Runs one post-service action; a refusal shows the post again with the reason (409)."""
    user = require_user(request, roles=EDITORS)
    form = request[FORM]
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        result = await action(session, await session.get(User, user.id), post, form)
        if result.ok:
            await session.commit()
        else:
            await session.rollback()
        post, proposal = await _load(request, session, user)
    if result.ok:
        raise web.HTTPSeeOther(f"/editor/posts/{post.id}")
    return post_page(request, user, post, proposal, result.reason.description, status=409)


async def approve(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    return await _act(request, lambda s, u, p, f: approve_post(s, config, u, p, str(f.get("content_sha256", ""))))


async def send_back(request: web.Request) -> web.StreamResponse:
    form = request[FORM]
    if not str(form.get("comment", "")).strip():
        user = require_user(request, roles=EDITORS)
        async with request.app[SESSIONS]() as session:
            post, proposal = await _load(request, session, user)
        return post_page(request, user, post, proposal, NEEDS_COMMENT, status=422)
    config = request.app[CONFIG]
    return await _act(request, lambda s, u, p, f: return_post(s, u, p, str(f.get("comment", "")), config=config))


async def delete(request: web.Request) -> web.StreamResponse:
    return await _act(request, lambda s, u, p, f: delete_post(s, u, p))


async def pin(request: web.Request) -> web.StreamResponse:
    return await _act(request, lambda s, u, p, f: pin_post(s, u, p, f.get("pinned") == "1"))


def setup(app: web.Application) -> None:
    post = "/editor/posts/{post_id:\\d+}"
    app.router.add_get(post, show, name="post")
    app.router.add_get(post + "/delete", confirm_delete, name="delete_post")
    app.router.add_post(post + "/delete", delete)
    app.router.add_post(post + "/approve", approve, name="approve_post")
    app.router.add_post(post + "/return", send_back, name="return_post")
    app.router.add_post(post + "/pin", pin, name="pin_post")

