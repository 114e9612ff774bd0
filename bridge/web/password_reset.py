""""Forgot password" on the sign-in page: asking for a link by e-mail, and setting a new password with it.

The answer to the request is the same page whether or not the name or address belongs to anyone, and the
mail leaves through the job queue, so an unreachable SMTP server never holds up the request.
"""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG, FORM, SECRET, SESSIONS
from bridge.auth.passwords import ResetReason, complete_reset, find_reset, request_reset, reset_throttled
from bridge.auth.users import UserError, UserProblem
from bridge.mail import notices
from bridge.web.messages import N_
from bridge.web.render import render
from bridge.web.sessions import client_key

FORGOT_PATH = "/signin/forgot"
TOO_OFTEN = N_("Too many requests from your network. Wait 15 minutes and try again.")


async def forgot_form(request: web.Request) -> web.StreamResponse:
    return render(request, "signin_forgot.html", {"who": "", "sent": False, "problem": None,
                                                  "mail": request.app[CONFIG].mail.enabled})


async def forgot(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    form = request[FORM]
    who = str(form.get("who", "")).strip()[:254]
    if not who:
        return render(request, "signin_forgot.html", {
            "who": who, "sent": False, "mail": config.mail.enabled,
            "problem": N_("Enter your user name or your e-mail address.")}, status=422)
    async with request.app[SESSIONS].begin() as session:
        throttled = await reset_throttled(session, client_key(request))
        if not throttled and config.mail.enabled:  # without mail a link would reach no one
            asked = await request_reset(session, request.app[SECRET], who)
            if asked.reason is ResetReason.SENT:
                await notices.reset_link(session, config, asked.user, asked.reset)
    if throttled:
        page = render(request, "signin_forgot.html", {"who": who, "sent": False, "problem": TOO_OFTEN,
                                                      "mail": config.mail.enabled}, status=429)
        page.headers["Retry-After"] = "900"
        return page
    return render(request, "signin_forgot.html", {"who": who, "sent": True, "problem": None,
                                                  "mail": config.mail.enabled})


def _reset_page(request: web.Request, problems: dict[str, str] | None = None, status: int = 200) -> web.Response:
    page = render(request, "signin_reset.html", {"token": request.match_info["token"], "problems": problems or {},
                                                 "gone": False}, status=status)
    page.headers["Cache-Control"] = "private, no-store"  # the link's token is in this page
    return page


def _gone(request: web.Request) -> web.Response:
    # 410 Gone: the link was valid once (or never); either way there is nothing to do with it any more.
    return render(request, "signin_reset.html", {"token": "", "problems": {}, "gone": True}, status=410)


async def reset_form(request: web.Request) -> web.StreamResponse:
    async with request.app[SESSIONS]() as session:
        reset = await find_reset(session, request.match_info["token"])
    return _gone(request) if reset is None else _reset_page(request)


async def reset(request: web.Request) -> web.StreamResponse:
    form = request[FORM]
    try:
        async with request.app[SESSIONS].begin() as session:
            found = await find_reset(session, request.match_info["token"])
            if found is None:
                return _gone(request)
            await complete_reset(session, found, str(form.get("new", "")), str(form.get("repeat", "")))
    except UserProblem as problem:
        field = "repeat" if problem.reason is UserError.PASSWORD_MISMATCH else "new"
        return _reset_page(request, {field: str(problem)}, status=422)
    raise web.HTTPSeeOther("/signin?reset=1")


def setup(app: web.Application) -> None:
    app.router.add_get(FORGOT_PATH, forgot_form, name="signin_forgot")
    app.router.add_post(FORGOT_PATH, forgot)
    app.router.add_get("/signin/reset/{token}", reset_form, name="signin_reset")
    app.router.add_post("/signin/reset/{token}", reset)
