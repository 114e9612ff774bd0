"""API tokens (admins only): list, create for one user and one account (shown once), revoke."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bridge.appkeys import CONFIG, FORM, SESSIONS
from bridge.store.models import Role, User
from bridge.auth.tokens import create_token, list_tokens, revoke_token
from bridge.web.guards import int_param, require_user
from bridge.web.messages import N_
from bridge.web.render import render

ADMINS = (Role.ADMIN,)


async def _page(request: web.Request, problem: str | None = None, typed: dict | None = None,
                status: int = 200) -> web.Response:
    async with request.app[SESSIONS]() as session:
        tokens = await list_tokens(session)
        users = list((await session.scalars(
            select(User).where(User.disabled.is_(False), User.role != Role.DPO).order_by(User.name))).all())
    return render(request, "admin_tokens.html", {
        "tokens": tokens, "users": users, "actors": request.app[CONFIG].actors, "problem": problem,
        "typed": typed or {"user": "", "actor": "", "label": ""},
    }, status=status)


async def token_list(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=ADMINS)
    return await _page(request)


async def token_create(request: web.Request) -> web.StreamResponse:
    admin = require_user(request, roles=ADMINS)
    form = request[FORM]
    typed = {k: str(form.get(k, "")).strip() for k in ("user", "actor", "label")}
    async with request.app[SESSIONS].begin() as session:
        result = await create_token(session, typed["user"], typed["actor"], typed["label"], by=admin)
    if not result.ok:
        return await _page(request, result.description, typed, status=422)
    return render(request, "admin_token_created.html", {"token": result.token, "secret": result.secret,
                                                        "user_name": typed["user"], "actor": typed["actor"]})


async def token_revoke(request: web.Request) -> web.StreamResponse:
    admin = require_user(request, roles=ADMINS)
    async with request.app[SESSIONS].begin() as session:
        result = await revoke_token(session, int_param(request.match_info["token_id"]) or 0, by=admin)
    if not result.ok:
        raise web.HTTPNotFound(text=N_("No such token."))
    raise web.HTTPSeeOther("/admin/tokens")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/tokens", token_list, name="admin_tokens")
    app.router.add_post("/admin/tokens", token_create)
    app.router.add_post("/admin/tokens/{token_id:\\d+}/revoke", token_revoke)
