"""The post page and what can be done with a post from there: approve, return, delete, pin."""

from __future__ import annotations

from aiohttp import web

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.store.models import Post, PostState, Role, User
from bridge.publishing.posts import POST_TEXT, approve_post, content_sha256, delete_post, pin_post, return_post
from bridge.convert.text import parse_text, render_html
from bridge.web.guards import load_post, require_user
from bridge.web.messages import N_
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
NEEDS_COMMENT = N_("Tell the author what to change: the comment is required.")
EDITABLE = (PostState.DRAFT, PostState.AWAITING_APPROVAL, PostState.SCHEDULED, PostState.PUBLISHED)


def post_html(post: Post, base_url: str) -> str:
    uris = Uris.for_base(base_url)

    def mention(acct: str) -> str:
        name, _, host = acct.partition("@")
        return uris.profile(name) if not host or host == uris.host else f"https://{host}/@{name}"

    return render_html(parse_text(post.text, uris.host), uris.tag, mention)


def post_page(request: web.Request, user: User, post: Post, problem: str | None = None,
              status: int = 200, confirm_delete: bool = False) -> web.Response:
    return render(request, "post.html", {
        "post": post, "html": post_html(post, request.app[CONFIG].instance.base_url),
        "sha256": content_sha256(post), "problem": problem, "confirm_delete": confirm_delete,
        "may_review": post.state == PostState.AWAITING_APPROVAL and post.author_id != user.id,
        "may_edit": post.state in EDITABLE, "may_delete": post.state != PostState.DELETED,
    }, status=status)


async def show(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
    return post_page(request, user, post)


async def confirm_delete(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
    return post_page(request, user, post, confirm_delete=post.state != PostState.DELETED)


async def _act(request: web.Request, action) -> web.StreamResponse:
    """Runs one post-service action; a refusal shows the post again with the reason (409)."""
    user = require_user(request, roles=EDITORS)
    form = await request.post()
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        result = await action(session, await session.get(User, user.id), post, form)
        if result.ok:
            await session.commit()
        else:
            await session.rollback()
            post = await load_post(request, session, user)
    if result.ok:
        raise web.HTTPSeeOther(f"/editor/posts/{post.id}")
    return post_page(request, user, post, POST_TEXT[result.reason], status=409)


async def approve(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    return await _act(request, lambda s, u, p, f: approve_post(s, config, u, p, str(f.get("content_sha256", ""))))


async def send_back(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    if not str(form.get("comment", "")).strip():
        user = require_user(request, roles=EDITORS)
        async with request.app[SESSIONS]() as session:
            post = await load_post(request, session, user)
        return post_page(request, user, post, NEEDS_COMMENT, status=422)
    return await _act(request, lambda s, u, p, f: return_post(s, u, p, str(f.get("comment", ""))))


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

