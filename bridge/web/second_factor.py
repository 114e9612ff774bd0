"""The second factor in the browser: the code step of the sign-in, enrolment by QR code, recovery codes.

The code step comes after a right password and before any session exists: the form carries a short-lived
token (`bridge.auth.totp.pending_signin`), and a wrong code counts against the same sign-in throttle as a
wrong password. The OAuth consent page signs in through the same pages, so it asks the code too.
"""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG, FORM, SECRET, SESSIONS
from bridge.auth.totp import (CodeCheck, Enrolment, SwitchOff, check_code, confirm_enrolment, enrolled,
                              pending_signin, pending_user_id, pending_valid, recovery_codes_left,
                              renew_recovery_codes, required, resume_enrolment, start_enrolment, switch_off)
from bridge.auth.users import (SigninReason, proof_failed, signin_failed, signin_succeeded, signin_throttled,
                               user_ref)
from bridge.store.models import User
from bridge.web.clients import client_of
from bridge.web.guards import PASSWORD_PATH, SECOND_FACTOR_PATH, home_for, local_path, password_path, require_user
from bridge.web.messages import N_
from bridge.web.render import render
from bridge.web.sessions import client_key, start_session
from consent.securitylog import log_signin

WRONG_CODE = N_("The code is wrong or was used already. Enter the current code from your app, or a recovery code.")
TOO_SLOW = N_("The sign-in took too long. Sign in again.")
TOO_MANY = N_("Too many failed sign-ins. Wait 15 minutes and try again, or ask an administrator to lift the block.")
ENROL_WRONG = N_("The code does not match. Check the time on your phone and enter the code your app shows now.")
ENROL_EXPIRED = N_("The page was open too long. Scan the new QR code.")
NO_PROOF = N_("Neither the password nor the code was right. Enter your current password or the current code "
              "from your app.")


def code_page(request: web.Request, user: User, target: str, problem: str | None = None,
              status: int = 200) -> web.Response:
    """The second step of the sign-in; shown instead of a session when the password was right."""
    return render(request, "signin_code.html", {
        "pending": pending_signin(request.app[SECRET], user), "next": target, "problem": problem,
    }, status=status)


def after_signin(user: User, target: str) -> str:
    return password_path(target) if user.must_change_password else (target or home_for(user))


async def signin_code(request: web.Request) -> web.StreamResponse:
    form = request[FORM]
    token, code = str(form.get("pending", "")), str(form.get("code", ""))[:40]
    target = local_path(str(form.get("next", "")), "")
    secret, key = request.app[SECRET], client_key(request)
    async with request.app[SESSIONS].begin() as session:
        user_id = pending_user_id(token)
        user = await session.get(User, user_id) if user_id is not None else None
        if user is None or user.disabled or not enrolled(user) or not pending_valid(secret, token, user):
            return render(request, "signin.html", {"next": target, "name": "", "problem": TOO_SLOW}, status=401)
        if await signin_throttled(session, user.name, key):
            reason = SigninReason.THROTTLED
        else:
            check = await check_code(session, secret, user, code)
            reason = SigninReason.OK if check.ok else SigninReason.WRONG_CODE
        if reason is SigninReason.OK:
            await signin_succeeded(session, user, key)
            response = web.Response(status=303, headers={"Location": after_signin(user, target)})
            await start_session(request, session, user, response)
        elif reason is SigninReason.WRONG_CODE:
            await signin_failed(session, user, key, reason)
        log_signin(session, str(reason), client_of(request).address,
                   user_ref(user) if reason is SigninReason.OK else None)
    if reason is SigninReason.OK:
        return response
    if reason is SigninReason.THROTTLED:
        page = render(request, "signin.html", {"next": target, "name": user.name, "problem": TOO_MANY}, status=429)
        page.headers["Retry-After"] = "900"
        return page
    return code_page(request, user, target, WRONG_CODE, status=401)


def _enrol_page(request: web.Request, user: User, enrolment: Enrolment, target: str, problem: str | None = None,
                status: int = 200) -> web.Response:
    page = render(request, "second_factor.html", {
        "enrolment": enrolment, "qr": enrolment.qr_svg(), "problem": problem,
        "forced": required(request.app[CONFIG], user), "next": target,
        "secret_groups": [enrolment.secret[i:i + 4] for i in range(0, len(enrolment.secret), 4)],
    }, status=status)
    page.headers["Cache-Control"] = "private, no-store"  # the secret is on this page
    return page


async def second_factor_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request, enrolment_pending_ok=True)
    if not enrolled(user):
        return _enrol_page(request, user, start_enrolment(request.app[SECRET], request.app[CONFIG], user),
                           local_path(request.query.get("next"), ""))
    return await _enrolled_page(request, user)


async def _enrolled_page(request: web.Request, user: User, problem: str | None = None,
                         status: int = 200) -> web.Response:
    async with request.app[SESSIONS]() as session:
        left = await recovery_codes_left(session, user)
    return render(request, "second_factor.html", {
        "enrolment": None, "left": left, "problem": problem,
        "may_switch_off": not required(request.app[CONFIG], user), "role": user.role}, status=status)


async def switch_off_own(request: web.Request) -> web.StreamResponse:
    """The user switches their own second factor off, where their role allows, with password or code."""
    user = require_user(request)
    if not enrolled(user):
        raise web.HTTPSeeOther(SECOND_FACTOR_PATH)
    form = request[FORM]
    key = client_key(request)
    async with request.app[SESSIONS].begin() as session:
        if await signin_throttled(session, user.name, key):
            return await _enrolled_page(request, user, problem=TOO_MANY, status=429)
        reason = await switch_off(session, request.app[SECRET], request.app[CONFIG],
                                  await session.get_one(User, user.id), str(form.get("current", ""))[:1000],
                                  str(form.get("code", ""))[:40])
        if reason is SwitchOff.NO_PROOF:
            await proof_failed(session, user, key)
    if reason is SwitchOff.DONE:
        raise web.HTTPSeeOther(f"{PASSWORD_PATH}?changed=second_factor_off")
    if reason is SwitchOff.NOT_ENROLLED:
        raise web.HTTPSeeOther(SECOND_FACTOR_PATH)
    if reason is SwitchOff.REQUIRED:  # the page says why, in place of the form
        return await _enrolled_page(request, user, status=409)
    return await _enrolled_page(request, user, problem=NO_PROOF, status=422)


async def enrol(request: web.Request) -> web.StreamResponse:
    user = require_user(request, enrolment_pending_ok=True)
    form = request[FORM]
    config, secret = request.app[CONFIG], request.app[SECRET]
    if enrolled(user):
        raise web.HTTPSeeOther(SECOND_FACTOR_PATH)
    target = local_path(str(form.get("next", "")), "")
    enrolment = resume_enrolment(secret, config, user, str(form.get("sealed", "")))
    if enrolment is None:
        return _enrol_page(request, user, start_enrolment(secret, config, user), target, ENROL_EXPIRED, status=422)
    async with request.app[SESSIONS].begin() as session:
        fresh = await session.get_one(User, user.id)
        check, codes = await confirm_enrolment(session, secret, fresh, enrolment, str(form.get("code", ""))[:40])
    if check is not CodeCheck.OK:
        return _enrol_page(request, user, enrolment, target, ENROL_WRONG, status=422)
    return _codes_page(request, user, codes, target)


async def renew_codes(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    if not enrolled(user):
        raise web.HTTPSeeOther(SECOND_FACTOR_PATH)
    async with request.app[SESSIONS].begin() as session:
        codes = await renew_recovery_codes(session, request.app[SECRET], await session.get_one(User, user.id))
    return _codes_page(request, user, codes, "")


def _codes_page(request: web.Request, user: User, codes: list[str], target: str) -> web.Response:
    page = render(request, "second_factor_codes.html", {"codes": codes, "next": target or home_for(user)})
    page.headers["Cache-Control"] = "private, no-store"  # shown once: never from a cache
    return page


def setup(app: web.Application) -> None:
    app.router.add_post("/signin/code", signin_code, name="signin_code")
    app.router.add_get(SECOND_FACTOR_PATH, second_factor_page, name="second_factor")
    app.router.add_post(SECOND_FACTOR_PATH, enrol)
    app.router.add_post(SECOND_FACTOR_PATH + "/recovery", renew_codes, name="recovery_codes")
    app.router.add_post(SECOND_FACTOR_PATH + "/off", switch_off_own, name="second_factor_off")
