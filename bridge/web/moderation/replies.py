"""The moderation view: replies to one account's posts (per post, newest first, paged), fediverse and
platform replies side by side, and what moderators do with them — approve, hide, mark as spam/abuse,
ask for consent, block the author's server (administrators, after a confirmation). Answering is in
`moderation_answer`, the list of blocked servers and the confirmation in `moderation_blocks`. Every action is a POST with the CSRF token, and audited."""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG, FEDERATION, FORM, SESSIONS
from bridge.privacy.consent_requests import ask_consent
from bridge.store.db import utcnow
from bridge.store.models import Role, User
from bridge.privacy.moderation import TARGETS, author_domain, moderate
from bridge.auth.users import allowed_actors
from bridge.web.moderation import answer as moderation_answer, blocks as moderation_blocks
from bridge.web.guards import int_param, local_path, require_user
from bridge.web.messages import N_
from bridge.web.moderation.access import NOT_YOURS, load_reply, query_without, replies_url
from bridge.web.moderation.notices import NOTICES
from bridge.web.moderation.rows import Filters, reply_page
from bridge.web.render import render
from consent.models import Reply
from consent.moderation import ModerationState

EDITORS = (Role.ADMIN, Role.EDITOR)
STATES = tuple(s for s in ModerationState if s is not ModerationState.DELETED)


def setup(app: web.Application) -> None:
    app.router.add_get("/editor/actors/{actor}/replies", replies, name="moderation")
    app.router.add_post("/editor/replies/{reply_id:\\d+}/state", change_state, name="reply_state")
    app.router.add_post("/editor/replies/{reply_id:\\d+}/consent", ask, name="reply_consent")
    app.router.add_post("/editor/replies/{reply_id:\\d+}/block", block_author, name="reply_block")
    moderation_answer.setup(app)
    moderation_blocks.setup(app)


async def replies(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    actor = config.actor(request.match_info["actor"])
    if actor is None:
        raise web.HTTPNotFound(text=N_("No such account."))
    if actor.name not in allowed_actors(config, user):
        raise web.HTTPForbidden(text=NOT_YOURS)
    state = request.query.get("state") or None
    filters = Filters(actor.name, int_param(request.query.get("post")), state if state in STATES else None,
                      int_param(request.query.get("before")))
    async with request.app[SESSIONS]() as session:
        rows, older = await reply_page(session, request.app[FEDERATION].vault, filters)
    return render(request, "moderation.html", {
        "actor": actor, "rows": rows, "older": older, "filters": filters, "states": STATES,
        "notice": NOTICES.get(request.query.get("notice", "")),
        "here": request.path + query_without(request, "notice"),
    })


def _back(reply: Reply, form, notice: str) -> web.HTTPSeeOther:
    target = local_path(str(form.get("next", "")), replies_url(reply.actor_name, reply.post_id))
    if not target.startswith("/editor/"):
        target = replies_url(reply.actor_name, reply.post_id)
    return web.HTTPSeeOther(f"{target}{'&' if '?' in target else '?'}notice={notice}")


async def change_state(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    form = request[FORM]
    target = TARGETS.get(str(form.get("to", "")))
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        if target is None:
            raise web.HTTPBadRequest(text=N_("Unknown moderation action."))
        moved = await moderate(session, await session.get(User, user.id), reply, target)
        await session.commit()
    raise _back(reply, form, str(moved.reason))


async def ask(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    form = request[FORM]
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        result = await ask_consent(session, request.app[CONFIG], request.app[FEDERATION],
                                   await session.get(User, user.id), reply, utcnow())
        await session.commit()
    raise _back(reply, form, str(result.reason))


async def block_author(request: web.Request) -> web.StreamResponse:
    """Blocking the author's server is instance-wide: administrators only, and after the confirmation step."""
    user = moderation_blocks.require_admin(request)
    form = request[FORM]
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        domain = await author_domain(session, reply)
    if domain is None:
        raise _back(reply, form, "no_domain")
    back = local_path(str(form.get("next", "")), replies_url(reply.actor_name, reply.post_id))
    return moderation_blocks.confirmation(request, domain, moderation_blocks.reason_of(str(form.get("reason", ""))),
                                          back)
