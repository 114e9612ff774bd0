"""Blocked servers: the list, blocking one by name, unblocking. Open to editors and administrators
(blocking from a reply is in `moderation`); every change is audited."""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import FEDERATION, SESSIONS
from bridge.delivery.domain_blocks import BlockReason, list_blocks
from bridge.store.models import Role, User
from bridge.privacy.moderation import block_domain, unblock_domain
from bridge.web.guards import require_user
from bridge.web.moderation.notices import NOTICES
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
PATH = "/editor/domain-blocks"


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, show, name="domain_blocks")
    app.router.add_post(PATH, add)
    app.router.add_post(PATH + "/remove", remove, name="domain_unblock")


async def show(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=EDITORS)
    async with request.app[SESSIONS]() as session:
        blocks = await list_blocks(session)
    return render(request, "moderation_blocks.html", {
        "blocks": blocks, "reasons": tuple(BlockReason), "notice": NOTICES.get(request.query.get("notice", ""))})


async def add(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    form = await request.post()
    reason = str(form.get("reason", ""))
    async with request.app[SESSIONS]() as session:
        result, _ = await block_domain(session, await session.get(User, user.id), str(form.get("domain", "")),
                                       BlockReason(reason) if reason in tuple(BlockReason) else BlockReason.OTHER,
                                       request.app[FEDERATION].uris.host)
        await session.commit()
    raise web.HTTPSeeOther(f"{PATH}?notice={result}")


async def remove(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    form = await request.post()
    async with request.app[SESSIONS]() as session:
        result, _ = await unblock_domain(session, await session.get(User, user.id), str(form.get("domain", "")))
        await session.commit()
    raise web.HTTPSeeOther(f"{PATH}?notice={result}")
