"""Answering a reply as the account. A fediverse reply is answered with an ordinary post through the post
service (approval, audit and federation as for any post), federated with `inReplyTo` and a Mention of the
author, who is also addressed (cc) so that the answer reaches them. A reply collected from a platform is
answered on that platform through its connector (`bridge.platforms.answers`): the page shows the answer's
state, the platform's words when it refused, and the decision when the outcome is unknown."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bridge.appkeys import CONFIG, FEDERATION, FORM, SESSIONS, USER
from bridge.auth.users import user_ref
from bridge.platforms import answers as platform_answers
from bridge.store.db import utcnow
from bridge.store.dialogue import AnswerTemplate, mark_answered
from bridge.store.models import Role, User
from bridge.privacy.moderation import answer_target, record_answer
from bridge.publishing.posts import POST_TEXT, Draft, create_post
from bridge.web.moderation.access import load_reply, replies_url
from bridge.web.guards import require_user, row_id
from bridge.web.messages import N_
from bridge.web.moderation.rows import Filters, reply_page
from bridge.web.render import render
from bridge.web.editor.dialogue_templates import fill_template
from bridge.web.editor.mirrors import REASONS

EDITORS = (Role.ADMIN, Role.EDITOR)
NOT_ANSWERABLE = N_("This reply cannot be answered from here: its author was erased.")
SENT_NOTICE = N_("Your answer is being sent to the platform. This page shows when it has arrived.")


def setup(app: web.Application) -> None:
    app.router.add_get("/editor/replies/{reply_id:\\d+}/answer", form, name="reply_answer")
    app.router.add_post("/editor/replies/{reply_id:\\d+}/answer", send)
    app.router.add_post("/editor/replies/{reply_id:\\d+}/answer/decide", decide, name="reply_answer_decide")
    app.router.add_post("/editor/replies/{reply_id:\\d+}/answer/approve", approve, name="reply_answer_approve")


async def _page(request: web.Request, session, reply, text: str, problem: str | None = None,
                status: int = 200, problem_args: dict | None = None) -> web.Response:
    rows, _ = await reply_page(session, request.app[FEDERATION].vault,
                               Filters(reply.actor_name, reply.post_id, before=reply.id + 1))
    row = next((r for r in rows if r.id == reply.id), None)
    platform = platform_answers.platform_of(request.app[CONFIG], reply)
    sent = (await session.scalars(select(platform_answers.PlatformAnswer)
                                  .where(platform_answers.PlatformAnswer.reply_id == reply.id)
                                  .order_by(platform_answers.PlatformAnswer.id))).all()
    templates = (await session.scalars(select(AnswerTemplate).where(AnswerTemplate.actor_name == reply.actor_name)
                                       .order_by(AnswerTemplate.title))).all()
    return render(request, "moderation_answer.html", {
        "reply": reply, "row": row, "text": text, "problem": problem, "problem_args": problem_args or {},
        "platform": platform, "platform_reply": bool((reply.signals or {}).get("platform")), "answers": sent,
        "reasons": REASONS, "templates": templates, "me": user_ref(request[USER]), "notice": _notice(request),
        "back": replies_url(reply.actor_name, reply.post_id)}, status=status)


def _notice(request: web.Request) -> str | None:
    if request.query.get("waiting"):
        return platform_answers.ANSWER_TEXT[platform_answers.AnswerReason.AWAITING_APPROVAL]
    return SENT_NOTICE if request.query.get("sent") else None


async def form(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        if (reply.signals or {}).get("platform"):
            refused = await platform_answers.answerable(session, request.app[CONFIG], reply)
            text = await _from_template(request, session, reply)
            return await _page(request, session, reply, text,
                               platform_answers.ANSWER_TEXT[refused] if refused else None)
        target = await answer_target(session, request.app[FEDERATION], reply)
        text = f"{target.target.handle} " if target is not None else ""
        return await _page(request, session, reply, text, None if target else NOT_ANSWERABLE)


async def send(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    data = request[FORM]  # read once, by the CSRF check
    text = str(data.get("text", ""))
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        author = await session.get(User, user.id)
        if (reply.signals or {}).get("platform"):
            return await _send_platform(request, session, reply, user, author, text)
        target = await answer_target(session, request.app[FEDERATION], reply)
        if target is None:
            return await _page(request, session, reply, text, NOT_ANSWERABLE, status=409)
        result = await create_post(session, request.app[CONFIG], author,
                                   Draft(actor=reply.actor_name, text=text, reply_to=target.target))
        if not result.ok:
            await session.rollback()
            reply = await load_reply(request, session, user)  # the rollback expired it
            return await _page(request, session, reply, text, POST_TEXT[result.reason], status=422)
        await record_answer(session, author, reply, result.post.id)
        await mark_answered(session, reply.id, reply.actor_name, reply.received_at, utcnow())
        post_id = result.post.id
        await session.commit()
    raise web.HTTPSeeOther(f"/editor/posts/{post_id}")


async def _from_template(request: web.Request, session, reply) -> str:
    """`?template=<id>`: the account's Textbaustein with its placeholders filled in."""
    chosen = row_id(request.query.get("template"))
    template = await session.get(AnswerTemplate, chosen) if chosen else None
    if template is None or template.actor_name != reply.actor_name:
        return ""
    return fill_template(template.body, request.app[CONFIG], reply)


async def _send_platform(request: web.Request, session, reply, user: User, author: User,
                         text: str) -> web.StreamResponse:
    started = await platform_answers.start_answer(session, request.app[CONFIG], reply, text,
                                                  request.app[CONFIG].instance.language, user_ref(author), utcnow())
    if not started.ok:
        await session.rollback()
        reply = await load_reply(request, session, user)  # the rollback expired it
        return await _page(request, session, reply, text, platform_answers.ANSWER_TEXT[started.reason], status=422,
                           problem_args={"length": started.length, "limit": started.limit})
    await record_answer(session, author, reply, reply.post_id or 0)
    await session.commit()
    waiting = "waiting=1" if started.reason is platform_answers.AnswerReason.AWAITING_APPROVAL else "sent=1"
    raise web.HTTPSeeOther(f"/editor/replies/{reply.id}/answer?{waiting}")


async def _answer_of(request: web.Request, session, reply) -> platform_answers.PlatformAnswer:
    chosen = row_id(str(request[FORM].get("answer", "")))
    row = await session.get(platform_answers.PlatformAnswer, chosen) if chosen else None
    if row is None or row.reply_id != reply.id:
        raise web.HTTPNotFound(text=N_("No such answer."))
    return row


async def approve(request: web.Request) -> web.StreamResponse:
    """Four-eyes approval of an answer on a platform: a second editor of the account lets it go out."""
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        row = await _answer_of(request, session, reply)
        started = await platform_answers.approve_answer(session, row, user.role, user_ref(user), utcnow())
        if not started.ok:
            return await _page(request, session, reply, "", platform_answers.ANSWER_TEXT[started.reason], status=409)
        await session.commit()
    raise web.HTTPSeeOther(f"/editor/replies/{reply.id}/answer?sent=1")


async def decide(request: web.Request) -> web.StreamResponse:
    """The editor checked the platform after an unknown outcome: the answer is there, or send it again."""
    user = require_user(request, roles=EDITORS)
    form = request[FORM]
    try:
        decision = platform_answers.AnswerDecision(str(form.get("decision", "")))
    except ValueError:
        raise web.HTTPBadRequest(text=N_("Unknown decision.")) from None
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        row = await _answer_of(request, session, reply)
        await platform_answers.decide_answer(session, row, decision, user.role, user_ref(user))
        await session.commit()
    raise web.HTTPSeeOther(f"/editor/replies/{reply.id}/answer")
