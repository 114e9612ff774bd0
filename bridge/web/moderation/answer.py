"""Answering a reply as the account: an ordinary post through the post service (approval, audit and
federation as for any post), federated with `inReplyTo` and a Mention of the author, who is also
addressed (cc) so that the answer reaches them."""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.store.models import Role, User
from bridge.privacy.moderation import answer_target, record_answer
from bridge.publishing.posts import POST_TEXT, Draft, create_post
from bridge.web.moderation.access import load_reply, replies_url
from bridge.web.guards import require_user
from bridge.web.messages import N_
from bridge.web.moderation.rows import Filters, reply_page
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
NOT_ANSWERABLE = N_("Only fediverse replies can be answered from here; answer platform replies on the platform.")


def setup(app: web.Application) -> None:
    app.router.add_get("/editor/replies/{reply_id:\\d+}/answer", form, name="reply_answer")
    app.router.add_post("/editor/replies/{reply_id:\\d+}/answer", send)


async def _page(request: web.Request, session, reply, text: str, problem: str | None = None,
                status: int = 200) -> web.Response:
    rows, _ = await reply_page(session, request.app[FEDERATION].vault,
                               Filters(reply.actor_name, reply.post_id, before=reply.id + 1))
    row = next((r for r in rows if r.id == reply.id), None)
    return render(request, "moderation_answer.html", {
        "reply": reply, "row": row, "text": text, "problem": problem,
        "back": replies_url(reply.actor_name, reply.post_id)}, status=status)


async def form(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        target = await answer_target(session, request.app[FEDERATION], reply)
        text = f"{target.target.handle} " if target is not None else ""
        return await _page(request, session, reply, text, None if target else NOT_ANSWERABLE)


async def send(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    data = await request.post()
    text = str(data.get("text", ""))
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        target = await answer_target(session, request.app[FEDERATION], reply)
        if target is None:
            return await _page(request, session, reply, text, NOT_ANSWERABLE, status=409)
        author = await session.get(User, user.id)
        result = await create_post(session, request.app[CONFIG], author,
                                   Draft(actor=reply.actor_name, text=text, reply_to=target.target))
        if not result.ok:
            await session.rollback()
            reply = await load_reply(request, session, user)  # the rollback expired it
            return await _page(request, session, reply, text, POST_TEXT[result.reason], status=422)
        await record_answer(session, author, reply, result.post.id)
        post_id = result.post.id
        await session.commit()
    raise web.HTTPSeeOther(f"/editor/posts/{post_id}")
