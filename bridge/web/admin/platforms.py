"""The admin's platform accounts under /admin/platforms: their state, the last send, a check on demand;
connecting one (credentials typed once, or the platform's OAuth sign-in with a redirect back) and
disconnecting it, without a restart. The rules live in `bridge.platforms.connections`."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bridge.appkeys import CONFIG, FEDERATION, FORM, SESSIONS
from bridge.auth.users import user_ref
from bridge.platforms import connections
from bridge.platforms.connections import KINDS, ConnectForm, ConnectReason, ConnectResult
from bridge.platforms.health import check_account
from bridge.platforms.status import health_of, latest_per_platform, views_of
from bridge.runtime.accounts import refresh
from bridge.runtime.catalogue import translations
from bridge.store.db import utcnow
from bridge.store.models import Role
from bridge.store.platforms import PlatformAccount
from bridge.web.guards import require_user, see_other
from bridge.web.i18n import current_language
from bridge.web.messages import N_, Problem, by_field
from bridge.web.render import render

ADMINS = (Role.ADMIN,)
# The connect form's fields in words (the platforms' own names for them stay in the title attribute's hint).
FIELD_LABELS = {
    "access_token": N_("Access token"), "refresh_token": N_("Refresh token"), "client_id": N_("Client ID"),
    "client_secret": N_("Client secret"), "app_password": N_("App password"), "handle": N_("Handle"),
    "appview": N_("Address for reading replies (optional)"), "bot_token": N_("Bot token"),
    "video_service": N_("Address of the video service (optional)"),
    "chat_id": N_("Channel (@name or numeric id)"), "discussion_chat_id": N_("Discussion group (optional)"),
    "page_id": N_("Page id"), "ig_user_id": N_("Instagram account id"), "threads_user_id": N_("Threads account id"),
    "organization_id": N_("Organisation id"), "linkedin_version": N_("API version (YYYYMM, optional)"),
    "oauth_base": N_("Address of the sign-in server (optional)"),
    "authorize_url": N_("Address of the platform's sign-in page (optional)"),
    "read_replies": N_("Read replies (billed by X)"),
    "privacy_status": N_("Visibility of uploaded videos (public, unlisted or private)"),
    "upload_base": N_("Address for uploads (optional)"),
}


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/platforms", admin_platforms, name="admin_platforms")
    app.router.add_post("/admin/platforms/{platform}/check", check_platform)
    app.router.add_get("/admin/platforms/connect", connect_page, name="admin_platform_connect")
    app.router.add_post("/admin/platforms/connect", connect_platform)
    app.router.add_post("/admin/platforms/{platform}/disconnect", disconnect_platform)
    app.router.add_get(connections.CALLBACK_PATH, oauth_callback, name="admin_platform_oauth_callback")


async def admin_platforms(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=ADMINS)
    config = request.app[CONFIG]
    now = utcnow()
    async with request.app[SESSIONS]() as session:
        await refresh(session, config)
        accounts = {a.platform_id: a for a in (await session.scalars(select(PlatformAccount))).all()}
        latest = await views_of(session, await latest_per_platform(session, [p.id for p in config.platforms]), now)
    return render(request, "admin_platforms.html", {
        "platforms": config.platforms, "accounts": accounts, "now": now,
        "from_file": {p.id for p in config.file_platforms}, "kinds": sorted(KINDS), "titles": connections.TITLES,
        "health": {p.id: health_of(accounts.get(p.id), now) for p in config.platforms},
        "latest": {v.platform_id: v for v in latest}, "done": request.query.get("done")})


async def check_platform(request: web.Request) -> web.StreamResponse:
    """Checks the credentials now; a reconnected account gets its refused sends queued again."""
    user = require_user(request, roles=ADMINS)
    config = request.app[CONFIG]
    platform = next((p for p in config.platforms if p.id == request.match_info["platform"]), None)
    if platform is None:
        raise web.HTTPNotFound()
    async with request.app[SESSIONS]() as session:
        await check_account(session, request.app[FEDERATION], platform, utcnow, (user.role, user_ref(user)))
    raise see_other("/admin/platforms")


def _form(request: web.Request) -> ConnectForm:
    form = request[FORM]
    kind = str(form.get("kind", ""))
    asked = KINDS.get(kind)
    names = asked.settings + asked.secrets + asked.oauth_needs + ("authorize_url",) if asked else ()
    return ConnectForm(
        id=str(form.get("id", "")).strip().lower(), kind=kind, api_base=str(form.get("api_base", "")).strip(),
        recipient=str(form.get("recipient", "")).strip(), country=str(form.get("country", "")).strip().upper(),
        mechanism=str(form.get("mechanism", "")).strip(),
        values={n: str(form.get(n, "")).strip() for n in names if str(form.get(n, "")).strip()})


def _defaults(kind: str) -> ConnectForm:
    """The kind's known recipient and transfer basis, the basis in the admin's language (it is stored as typed and
    read by the DPO in the transfer log)."""
    k = KINDS[kind]
    mechanism = translations(current_language()).gettext(k.mechanism)
    return ConnectForm(kind=kind, api_base=k.api_base, recipient=k.recipient, country=k.country, mechanism=mechanism)


def _connect_form(request: web.Request, typed: ConnectForm, problems: dict | None = None,
                  status: int = 200) -> web.Response:
    kind = KINDS[typed.kind]
    return render(request, "admin_platform_connect.html", {
        "typed": typed, "kind": kind, "problems": problems or {}, "title": connections.TITLES[typed.kind],
        "labels": FIELD_LABELS,
        # Secrets are never sent back, not even to the admin who typed them: they are typed again.
        "shown": {k: v for k, v in typed.values.items() if k in kind.settings + ("authorize_url",)},
        "default_authorize": kind.authorize_url.replace("{api_base}", typed.api_base)}, status=status)


async def connect_page(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=ADMINS)
    kind = request.query.get("kind", "")
    if kind not in KINDS:
        raise see_other("/admin/platforms")
    return _connect_form(request, _defaults(kind))


def _problems(result: ConnectResult) -> dict[str, list[Problem]]:
    found = [Problem(field, reason.description) for field, reason in result.problems.items()]
    return by_field(found or [Problem("", result.reason.description)])


async def connect_platform(request: web.Request) -> web.StreamResponse:
    """"Connect" stores the typed credentials; "sign in at the platform" starts its OAuth flow."""
    admin = require_user(request, roles=ADMINS)
    typed = _form(request)
    if typed.kind not in KINDS:
        raise see_other("/admin/platforms")
    oauth = request[FORM].get("via") == "oauth"
    config = request.app[CONFIG]
    async with request.app[SESSIONS].begin() as session:
        await refresh(session, config)
        if oauth:
            result = await connections.begin_oauth(session, config, typed, admin, request.app[FEDERATION].http)
        else:
            result = await connections.connect(session, config, typed, admin)
        if not result.ok:
            await session.rollback()
    if not result.ok:
        return _connect_form(request, typed, _problems(result), status=422)
    if oauth:
        # Not a redirect: browsers hold the answer to a form to its form-action ('self'), so the way to the
        # platform is a page of ours that goes on by itself (and offers the link).
        return render(request, "admin_platform_leave.html", {"target": result.redirect,
                                                              "title": connections.TITLES[typed.kind]})
    raise see_other("/admin/platforms?done=connected")


async def disconnect_platform(request: web.Request) -> web.StreamResponse:
    admin = require_user(request, roles=ADMINS)
    async with request.app[SESSIONS].begin() as session:
        result = await connections.disconnect(session, request.app[CONFIG], request.match_info["platform"], admin)
    if result.reason is ConnectReason.NOT_FOUND:
        raise web.HTTPNotFound(text=N_("No such platform account."))
    if not result.ok:
        raise web.HTTPConflict(text=N_("This account is set in the configuration file; remove it there."))
    raise see_other("/admin/platforms?done=disconnected")


async def oauth_callback(request: web.Request) -> web.StreamResponse:
    """Where the platform sends the admin back. The session cookie is strict, so it is not sent on a return
    from another site: the unguessable, single-use `state` (bound to the admin who started) authenticates.
    The answer is a page with a link, since a redirect would again arrive without the cookie."""
    state, code = request.query.get("state", ""), request.query.get("code", "")
    async with request.app[SESSIONS].begin() as session:
        result = await connections.finish_oauth(session, request.app[CONFIG], state, code,
                                                request.app[FEDERATION].http)
    return render(request, "admin_platform_connected.html", {"result": result},
                  status=200 if result.ok else 400)
