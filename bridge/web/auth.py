"""Sign-in, sign-out, the password and language settings page, and the landing pages per role."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import delete

from bridge.appkeys import CONFIG, FORM, SESSIONS, USER, WEB_SESSION
from bridge.config.model import LANGUAGES
from bridge.store.models import Role, User, WebSession
from bridge.auth.totp import enrolled
from bridge.auth.users import WINDOW, SigninReason, UserProblem, authenticate, change_password, set_email, user_ref
from bridge.web import filters, password_reset, second_factor
from bridge.web.clients import client_of
from bridge.web.guards import PASSWORD_PATH, home_for, local_path, require_user
from bridge.web.messages import N_
from bridge.web.render import render
from bridge.web.sessions import client_key, end_session, start_session
from consent.audit import Action, Event, record
from consent.securitylog import log_signin

# Wrong password and unknown user read the same, so the form does not reveal which names exist.
SIGNIN_PROBLEMS = {
    SigninReason.WRONG_CREDENTIALS: (401, N_("The user name or the password is wrong.")),
    SigninReason.DISABLED: (403, N_("This user is disabled. Ask an administrator.")),
    SigninReason.THROTTLED: (429, N_("Too many failed sign-ins. Wait 15 minutes and try again, or ask an "
                                     "administrator to lift the block.")),
}


def redirect(location: str) -> web.Response:
    """A 303 as a response object, for answers that must also set or clear a cookie."""
    return web.Response(status=303, headers={"Location": location})


async def signin_form(request: web.Request) -> web.StreamResponse:
    target = local_path(request.query.get("next"), "")
    if request.get(USER) is not None:
        raise web.HTTPSeeOther(target or home_for(request[USER]))
    return render(request, "signin.html", {"next": target, "name": "", "problem": None,
                                           "reset": request.query.get("reset") == "1"})


async def signin(request: web.Request) -> web.StreamResponse:
    form = request[FORM]
    name, password = str(form.get("name", "")).strip().lower(), str(form.get("password", ""))
    target = local_path(str(form.get("next", "")), "")
    async with request.app[SESSIONS].begin() as session:
        result = await authenticate(session, name, password, client_key(request))
        if result.reason is not SigninReason.SECOND_FACTOR_NEEDED:  # that step logs its own outcome
            log_signin(session, str(result.reason), client_of(request).address,
                       user_ref(result.user) if result.ok else None)
        if result.ok:
            user = result.user
            response = redirect(second_factor.after_signin(user, target))
            await start_session(request, session, user, response)
    if result.ok:
        return response
    if result.reason is SigninReason.SECOND_FACTOR_NEEDED:
        return second_factor.code_page(request, result.user, target)
    status, problem = SIGNIN_PROBLEMS[result.reason]
    page = render(request, "signin.html", {"next": target, "name": name, "problem": problem}, status=status)
    if result.reason is SigninReason.THROTTLED:
        page.headers["Retry-After"] = str(int(WINDOW.total_seconds()))
    return page


async def signout(request: web.Request) -> web.StreamResponse:
    user = request.get(USER)
    response = redirect("/signin")
    async with request.app[SESSIONS].begin() as session:
        await end_session(request, session, response)
        if user is not None:
            await record(session, Event(Action.SIGNOUT, user.role, user_ref(user)))
    return response


def _settings_page(request: web.Request, user: User, problem: str | None = None, status: int = 200,
                   mail_problem: str | None = None, typed: dict | None = None):
    return render(request, "password.html", {
        "forced": user.must_change_password, "problem": problem,
        "changed": request.query.get("changed"), "languages": LANGUAGES,
        "next": local_path(request.query.get("next"), ""), "mail_problem": mail_problem,
        "typed": typed or {"email": user.email or "", "reply_digest": user.reply_digest},
        "mail": request.app[CONFIG].mail.enabled, "second_factor": enrolled(user),
    }, status=status)


async def password_form(request: web.Request) -> web.StreamResponse:
    user = require_user(request, password_pending_ok=True)
    return _settings_page(request, user)


async def password_change(request: web.Request) -> web.StreamResponse:
    user = require_user(request, password_pending_ok=True)
    form = request[FORM]
    forced = user.must_change_password
    try:
        async with request.app[SESSIONS].begin() as session:
            fresh = await session.get(User, user.id)
            await change_password(session, fresh, str(form.get("current", "")), str(form.get("new", "")),
                                  str(form.get("repeat", "")))
            # Other browsers signed in with the old password are signed out; this one stays.
            await session.execute(delete(WebSession).where(
                WebSession.user_id == user.id, WebSession.token_hash != request[WEB_SESSION].token_hash))
    except UserProblem as problem:
        return _settings_page(request, user, str(problem), status=422)
    if forced:
        raise web.HTTPSeeOther(local_path(str(form.get("next", "")), "") or home_for(user))
    raise web.HTTPSeeOther(f"{PASSWORD_PATH}?changed=1")


async def mail_change(request: web.Request) -> web.StreamResponse:
    """One's own e-mail address and the daily reply digest."""
    user = require_user(request, password_pending_ok=True)
    form = request[FORM]
    typed = {"email": str(form.get("email", "")).strip()[:300], "reply_digest": form.get("reply_digest") == "on"}
    try:
        async with request.app[SESSIONS].begin() as session:
            fresh = await session.get_one(User, user.id)
            await set_email(session, fresh, typed["email"], fresh, typed["reply_digest"])
    except UserProblem as problem:
        return _settings_page(request, user, status=422, mail_problem=str(problem), typed=typed)
    raise web.HTTPSeeOther(f"{PASSWORD_PATH}?changed=mail")


async def language_change(request: web.Request) -> web.StreamResponse:
    user = require_user(request, password_pending_ok=True)
    form = request[FORM]
    language = str(form.get("language", ""))
    if language not in LANGUAGES:
        return _settings_page(request, user, N_("Choose German or English."), status=422)
    async with request.app[SESSIONS].begin() as session:
        fresh = await session.get(User, user.id)
        fresh.language = language
    raise web.HTTPSeeOther(PASSWORD_PATH)


async def dpo_home(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=(Role.DPO, Role.ADMIN))
    return render(request, "dpo.html", {"dpo_contact": request.app[CONFIG].privacy.dpo_contact})


def setup(app: web.Application) -> None:
    filters.install(app)
    app.router.add_get("/signin", signin_form, name="signin")
    app.router.add_post("/signin", signin)
    app.router.add_post("/signout", signout, name="signout")
    app.router.add_get(PASSWORD_PATH, password_form, name="password")
    app.router.add_post(PASSWORD_PATH, password_change)
    app.router.add_post("/language", language_change, name="language")
    app.router.add_post("/settings/mail", mail_change, name="mail_settings")
    password_reset.setup(app)
    second_factor.setup(app)
    app.router.add_get("/dpo", dpo_home, name="dpo")
