"""Blocked servers: the list (for editors and administrators), blocking one after a confirmation step and
unblocking (administrators only: a block holds for every account of the instance). Blocking from a reply
(`moderation.replies`) leads to the same confirmation; every change is audited."""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import FEDERATION, FORM, SESSIONS
from bridge.delivery.domain_blocks import BlockReason, BlockResult, list_blocks, normalize
from bridge.store.models import Role, User
from bridge.privacy.moderation import block_domain, unblock_domain
from bridge.web.guards import local_path, require_user
from bridge.web.messages import N_
from bridge.web.moderation.notices import NOTICES
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
PATH = "/editor/domain-blocks"
ADMINS_ONLY = N_("Only an administrator may block or unblock a server: a block applies to every account of "
                 "this instance. Ask an administrator.")


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, show, name="domain_blocks")
    app.router.add_post(PATH, add)
    app.router.add_post(PATH + "/remove", remove, name="domain_unblock")


def require_admin(request: web.Request) -> User:
    """The one rule for server blocks: editors may see the list, only administrators change it."""
    user = require_user(request, roles=EDITORS)
    if user.role != Role.ADMIN:
        raise web.HTTPForbidden(text=ADMINS_ONLY)
    return user


def reason_of(value: str) -> BlockReason:
    return BlockReason(value) if value in tuple(BlockReason) else BlockReason.OTHER


async def show(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        blocks = await list_blocks(session)
    return render(request, "moderation_blocks.html", {
        "blocks": blocks, "reasons": tuple(BlockReason), "notice": NOTICES.get(request.query.get("notice", ""))})


def confirmation(request: web.Request, domain: str, reason: BlockReason, back: str) -> web.StreamResponse:
    """The step before a block: what it does, for whom, and a form that blocks only when sent again."""
    name = normalize(domain)
    if name is None:
        raise web.HTTPSeeOther(_with_notice(back, BlockResult.INVALID_DOMAIN))
    return render(request, "moderation_block_confirm.html", {"domain": name, "reason": reason, "back": back})


async def add(request: web.Request) -> web.StreamResponse:
    user = require_admin(request)
    form = request[FORM]
    domain, reason = str(form.get("domain", "")), reason_of(str(form.get("reason", "")))
    back = _back(str(form.get("next", "")))
    if form.get("confirmed") != "yes":
        return confirmation(request, domain, reason, back)
    async with request.app[SESSIONS]() as session:
        result, _ = await block_domain(session, await session.get(User, user.id), domain, reason,
                                       request.app[FEDERATION].uris.host)
        await session.commit()
    raise web.HTTPSeeOther(_with_notice(back, result))


async def remove(request: web.Request) -> web.StreamResponse:
    user = require_admin(request)
    form = request[FORM]
    async with request.app[SESSIONS]() as session:
        result, _ = await unblock_domain(session, await session.get(User, user.id), str(form.get("domain", "")))
        await session.commit()
    raise web.HTTPSeeOther(f"{PATH}?notice={result}")


def _back(target: str) -> str:
    """Where the admin returns after the block: a moderation page they came from, else the list."""
    path = local_path(target, PATH)
    return path if path.startswith("/editor/") else PATH


def _with_notice(target: str, notice: str) -> str:
    return f"{target}{'&' if '?' in target else '?'}notice={notice}"
