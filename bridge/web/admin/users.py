"""User administration (admins only): create, change role and accounts, disable, reset passwords.

One-time passwords are shown once, on the answer to the request that made them, and never stored.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bridge.appkeys import CONFIG, FORM, SESSIONS
from bridge.mail import notices
from bridge.store.models import Role, User
from bridge.auth.totp import enrolled, reset_second_factor
from bridge.auth.users import (UserError, UserProblem, check_email, check_new_user, create_user, disable_user,
                               reset_password, set_actors, set_email, set_role, signin_blocks, unblock_signin)
from bridge.web.admin import platforms as admin_platforms, tokens as admin_tokens, warnings as admin_warnings
from bridge.web import filters
from bridge.web.guards import int_param, require_user
from bridge.web.messages import N_
from bridge.web.render import render

ADMINS = (Role.ADMIN,)
NOT_YOURSELF = N_("You cannot do this to your own user; ask another administrator.")


async def _users(session) -> list[User]:
    return list((await session.scalars(select(User).order_by(User.name))).all())


def _list_page(request: web.Request, users: list[User], problem: str | None = None,
               typed: dict | None = None, status: int = 200, email_problem: str | None = None) -> web.Response:
    return render(request, "admin_users.html", {
        "users": users, "problem": problem, "email_problem": email_problem,
        "typed": typed or {"name": "", "role": "editor", "actors": [], "email": "", "welcome": True},
        "roles": tuple(Role), "actors": request.app[CONFIG].actors, "mail": request.app[CONFIG].mail.enabled,
    }, status=status)


async def admin_root(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=ADMINS)
    raise web.HTTPSeeOther("/admin/users")


async def user_list(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=ADMINS)
    async with request.app[SESSIONS]() as session:
        return _list_page(request, await _users(session))


def _access_form(request: web.Request) -> tuple[str, list[str]]:
    """The role and accounts as chosen in a form (the create form and a user's access form share them)."""
    form = request[FORM]
    return str(form.get("role", "")), [str(a) for a in form.getall("actors", []) if isinstance(a, str)]


async def user_create(request: web.Request) -> web.StreamResponse:
    admin = require_user(request, roles=ADMINS)
    config, form = request.app[CONFIG], request[FORM]
    role, actors = _access_form(request)
    typed = {"name": str(form.get("name", "")).strip().lower(), "role": role, "actors": actors,
             "email": str(form.get("email", "")).strip()[:300], "welcome": form.get("welcome") == "on"}
    async with request.app[SESSIONS].begin() as session:
        problems = [None, None]  # the address and the rest, both said at once, before the user exists
        try:
            check_email(typed["email"])
        except UserProblem as problem:
            problems[0] = str(problem)
        try:
            await check_new_user(session, typed["name"], typed["role"], typed["actors"])
        except UserProblem as problem:
            problems[1] = str(problem)
        if not any(problems):
            user, password = await create_user(session, typed["name"], typed["role"], typed["actors"], by=admin)
            if typed["email"]:
                await set_email(session, user, typed["email"], admin)
            welcomed = typed["welcome"] and await notices.welcome(session, config, user)
    if any(problems):
        email_problem, problem = problems
        async with request.app[SESSIONS]() as session:
            return _list_page(request, await _users(session), problem, typed, status=422, email_problem=email_problem)
    return render(request, "admin_password.html", {"subject": user, "password": password, "created": True,
                                                   "welcomed": welcomed})


async def _target(request: web.Request, session) -> User:
    user = await session.get(User, int_param(request.match_info["user_id"]) or 0)
    if user is None:
        raise web.HTTPNotFound(text=N_("No such user."))
    return user


async def _user_page(request: web.Request, session, subject: User, problem: str | None = None,
                     status: int = 200, email_problem: str | None = None, typed_email: str | None = None):
    return render(request, "admin_user.html", {
        "subject": subject, "problem": problem, "roles": tuple(Role), "actors": request.app[CONFIG].actors,
        "chosen": {a.name for a in subject.actors}, "done": request.query.get("done"),
        "blocks": await signin_blocks(session, subject), "second_factor": enrolled(subject),
        "email_problem": email_problem, "typed_email": subject.email or "" if typed_email is None else typed_email,
    }, status=status)


async def user_detail(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=ADMINS)
    async with request.app[SESSIONS]() as session:
        return await _user_page(request, session, await _target(request, session))


async def user_access(request: web.Request) -> web.StreamResponse:
    admin = require_user(request, roles=ADMINS)
    role, actors = _access_form(request)
    async with request.app[SESSIONS]() as session:
        subject = await _target(request, session)
        if subject.id == admin.id and role != Role.ADMIN:
            return await _user_page(request, session, subject, NOT_YOURSELF, status=409)
        try:
            await set_role(session, subject, role, admin)
            await set_actors(session, subject, actors, admin)
        except UserProblem as problem:
            await session.rollback()
            return await _user_page(request, session, await _target(request, session), str(problem), status=422)
        await session.commit()
    raise web.HTTPSeeOther(f"/admin/users/{subject.id}?done=access")


async def _change_another(request: web.Request, change, answer) -> web.StreamResponse:
    """An admin's change to another user than themselves (`change(session, subject, admin)`), committed;
    `answer(subject, what change returned)` is the response."""
    admin = require_user(request, roles=ADMINS)
    async with request.app[SESSIONS]() as session:
        subject = await _target(request, session)
        if subject.id == admin.id:
            return await _user_page(request, session, subject, NOT_YOURSELF, status=409)
        outcome = await change(session, subject, admin)
        await session.commit()
    return answer(subject, outcome)


def _back_to(done: str):
    """The answer of a change that shows nothing new: the user's page, saying what was done."""
    return lambda subject, _: web.Response(status=303,
                                           headers={"Location": f"/admin/users/{subject.id}?done={done}"})


async def user_disable(request: web.Request) -> web.StreamResponse:
    return await _change_another(request, disable_user, _back_to("disabled"))


async def user_reset(request: web.Request) -> web.StreamResponse:
    return await _change_another(request, reset_password, lambda subject, password: render(
        request, "admin_password.html", {"subject": subject, "password": password, "created": False}))


async def user_unblock(request: web.Request) -> web.StreamResponse:
    """Lets a user sign in again at once after too many failed attempts (their own or someone else's)."""
    admin = require_user(request, roles=ADMINS)
    async with request.app[SESSIONS].begin() as session:
        subject = await _target(request, session)
        await unblock_signin(session, subject, admin)
    raise web.HTTPSeeOther(f"/admin/users/{subject.id}?done=unblocked")


async def user_email(request: web.Request) -> web.StreamResponse:
    admin = require_user(request, roles=ADMINS)
    typed = str(request[FORM].get("email", "")).strip()[:300]
    async with request.app[SESSIONS]() as session:
        subject = await _target(request, session)
        try:
            await set_email(session, subject, typed, admin)
        except UserProblem as problem:
            return await _user_page(request, session, subject, email_problem=str(problem), typed_email=typed,
                                    status=422)
        await session.commit()
    raise web.HTTPSeeOther(f"/admin/users/{subject.id}?done=email")


async def user_second_factor_reset(request: web.Request) -> web.StreamResponse:
    """A lost phone: the second factor goes, the user is signed out and enrols again if their role requires."""
    return await _change_another(request, reset_second_factor, _back_to("second_factor"))


def setup(app: web.Application) -> None:
    filters.install(app)
    app.router.add_get("/admin", admin_root)
    app.router.add_get("/admin/users", user_list, name="admin_users")
    app.router.add_post("/admin/users", user_create)
    user = "/admin/users/{user_id:\\d+}"
    app.router.add_get(user, user_detail, name="admin_user")
    app.router.add_post(user + "/access", user_access)
    app.router.add_post(user + "/disable", user_disable)
    app.router.add_post(user + "/reset", user_reset)
    app.router.add_post(user + "/unblock", user_unblock)
    app.router.add_post(user + "/email", user_email)
    app.router.add_post(user + "/second-factor/reset", user_second_factor_reset)
    admin_tokens.setup(app)
    admin_platforms.setup(app)
    admin_warnings.setup(app)
