"""`/oauth/authorize`: the page where a signed-in editor lets an app act as one of their accounts.

GET checks the app's request and shows the consent form (the server's own sign-in first); POST (CSRF-checked
by the middleware like every form) approves or denies. An approval redirects to the app with `code` and
`state`, or shows the code for the out-of-band URI. Errors about the client or its redirect URI are shown
here, never sent to an address that may not be the app's (RFC 6749 section 4.1.2.1).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from sqlalchemy import select

from bridge.appkeys import CONFIG, FORM, SESSIONS
from bridge.auth.oauth import (
    OOB, AuthorizationRequest, Checked, OAuthError, OAuthResult, check_authorization, issue_code,
)
from bridge.auth.users import allowed_actors, may_use_actor
from bridge.config.model import LANGUAGES
from bridge.store.models import Actor, Role, User
from bridge.web.guards import require_user
from bridge.web.i18n import set_language
from bridge.web.messages import N_
from bridge.web.middleware import SECURITY_HEADERS
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
HOST = re.compile(r"^[A-Za-z0-9.:\[\]-]+$")

# What a person reads about each scope; the granular ones fall back to their family.
SCOPE_TEXT = {
    "read": N_("Read the account's posts, notifications and settings"),
    "write": N_("Post, edit and delete as the account, upload images"),
    "follow": N_("Follow and block (this server keeps no lists of people; nothing to change)"),
    "push": N_("Push notifications (not offered by this server)"),
    "profile": N_("See the account's name and profile"),
    "read:": N_("Read part of the account's data"),
    "write:": N_("Change part of the account's data"),
    "admin:": N_("Administration (not offered through apps)"),
}
PROBLEM_TEXT = {
    OAuthError.INVALID_CLIENT: N_("This app is not registered on this server. Start the sign-in again from the app."),
    OAuthError.INVALID_REDIRECT_URI: N_("The app asked to return to an address it did not register."),
    OAuthError.INVALID_REQUEST: N_("The app's sign-in request is incomplete or malformed."),
    OAuthError.INVALID_SCOPE: N_("The app asked for permissions it did not register."),
    OAuthError.UNSUPPORTED_RESPONSE_TYPE: N_("The app asked for a kind of sign-in this server does not offer."),
    OAuthError.ACCESS_DENIED: N_("You denied the app access. You can close this window."),
}


def scope_text(scope: str) -> str:
    family = scope.split(":")[0] + ":" if ":" in scope else scope
    return SCOPE_TEXT.get(scope) or SCOPE_TEXT.get(family) or scope


def form_target(redirect_uri: str) -> str:
    """The CSP source the consent form may lead to: its redirect URI's origin, or its app scheme."""
    if redirect_uri == OOB:
        return ""
    parts = urlsplit(redirect_uri)
    if not SCHEME.match(parts.scheme):
        return ""
    if parts.scheme.lower() in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}" if HOST.match(parts.netloc) else ""
    return f"{parts.scheme}:"


def page_headers(redirect_uri: str) -> dict:
    # The approval redirects to the app; browsers apply form-action to that redirect too (Mastodon drops
    # form-action on this page altogether; here it names the one place the app registered).
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace(
        "form-action 'self'", f"form-action 'self' {form_target(redirect_uri)}".rstrip())
    return {"Content-Security-Policy": policy, "Cache-Control": "private, no-store"}


def redirect_to_app(request: AuthorizationRequest, **values: str) -> web.HTTPFound:
    query = {k: v for k, v in values.items() if v} | ({"state": request.state} if request.state else {})
    separator = "&" if "?" in request.redirect_uri else "?"
    return web.HTTPFound(f"{request.redirect_uri}{separator}{urlencode(query)}")


def refuse(request: web.Request, checked: Checked) -> web.Response:
    """An error page, or (where RFC 6749 allows, and the app did not ask for out-of-band) the error sent back."""
    error = checked.result.error
    if checked.redirectable and checked.request.redirect_uri != OOB:
        raise redirect_to_app(checked.request, error=str(error), error_description=checked.result.description)
    return render(request, "error.html", {"status": 400, "message": PROBLEM_TEXT[error]}, status=400)


def _language(request: web.Request) -> None:
    """Mastodon's `lang` parameter chooses the page's language (an unknown value is ignored)."""
    if request.query.get("lang") in LANGUAGES:
        set_language(request.query["lang"])


def consent_page(request: web.Request, user: User, authorization: AuthorizationRequest, chosen: str = "",
                 problem: str | None = None, status: int = 200) -> web.Response:
    config = request.app[CONFIG]
    names = allowed_actors(config, user)
    page = render(request, "oauth_authorize.html", {
        "app": authorization.app, "authorization": authorization, "problem": problem, "chosen": chosen,
        "website_host": urlsplit(authorization.app.website).netloc if authorization.app.website else "",
        "scopes": [(scope, scope_text(scope)) for scope in authorization.scopes],
        "actors": [a for a in config.actors if a.name in names],
    }, status=status)
    page.headers.update(page_headers(authorization.redirect_uri))
    return page


async def authorize_form(request: web.Request) -> web.StreamResponse:
    _language(request)
    async with request.app[SESSIONS]() as session:
        checked = await check_authorization(session, dict(request.query))
    if not checked.result.ok:
        return refuse(request, checked)
    user = require_user(request, roles=EDITORS)  # not signed in: the sign-in page, then back here
    if not allowed_actors(request.app[CONFIG], user):
        raise web.HTTPForbidden(text=N_("You may not post as any account. Ask an administrator."))
    return consent_page(request, user, checked.request)


async def authorize_decide(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    form = request[FORM]
    async with request.app[SESSIONS].begin() as session:
        checked = await check_authorization(session, {k: str(form.get(k, "")) for k in FIELDS})
        if not checked.result.ok:
            return refuse(request, checked)
        authorization = checked.request
        if form.get("decision") != "approve":
            return refuse(request, Checked(OAuthResult(OAuthError.ACCESS_DENIED), authorization, redirectable=True))
        chosen = str(form.get("actor", ""))
        actor = await session.scalar(select(Actor).where(Actor.name == chosen))
        if actor is None or request.app[CONFIG].actor(chosen) is None or not may_use_actor(user, chosen):
            return consent_page(request, user, authorization, chosen,
                                N_("Choose one of the accounts you may post as."), status=422)
        code = await issue_code(session, authorization, user, actor)
    if authorization.redirect_uri == OOB:
        page = render(request, "oauth_code.html", {"app": authorization.app, "code": code})
        page.headers["Cache-Control"] = "private, no-store"
        return page
    raise redirect_to_app(authorization, code=code)
