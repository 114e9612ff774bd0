"""The authority's accounts under /admin/accounts (admins only): create, change the profile and who edits it,
retire; and the account's feed import. The rules live in `bridge.publishing.profiles` and `.feedimport`;
this module reads forms and shows every problem next to its field, as typed."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_request import FileField
from sqlalchemy import select

from bridge.appkeys import CONFIG, FORM, SESSIONS
from bridge.convert.images import MEDIA_TEXT
from bridge.config.model import LANGUAGES, QUOTE_POLICIES
from bridge.publishing import feedimport, profiles
from bridge.publishing.profiles import MAX_FIELDS, ProfileForm, ProfileResult
from bridge.runtime.accounts import refresh
from bridge.store.models import Role, User
from bridge.web.guards import require_user, see_other
from bridge.web.messages import N_, Problem, by_field
from bridge.web.render import render

ADMINS = (Role.ADMIN,)


def _text(form, name: str) -> str:
    value = form.get(name, "")
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def _upload(value) -> bytes | None:
    if not isinstance(value, FileField) or not value.filename:
        return None
    return value.file.read()  # a chosen but empty file is an upload too, refused as empty


def read_profile(form, name: str = "") -> ProfileForm:
    fields = tuple((_text(form, f"field{i}_name"), _text(form, f"field{i}_value")) for i in range(MAX_FIELDS))
    editors = tuple(int(v) for v in form.getall("editors", []) if isinstance(v, str) and v.isdigit())
    return ProfileForm(
        name=name or _text(form, "name").lower(), display_name=_text(form, "display_name"),
        summary=_text(form, "summary"), website=_text(form, "website"), fields=fields,
        require_approval=form.get("require_approval") == "on", indexable=form.get("indexable") == "on",
        quote_policy=_text(form, "quote_policy"), language=_text(form, "language"), editors=editors,
        avatar=_upload(form.get("avatar")), header=_upload(form.get("header")))


def problems_of(result: ProfileResult) -> dict[str, list[Problem]]:
    found = []
    for field, reason in result.problems.items():
        image = result.image_reasons.get(field)
        found.append(Problem(field, MEDIA_TEXT[image] if image else reason.description))
    if not found and not result.ok:
        found.append(Problem("", result.reason.description))
    return by_field(found)


async def _editors(session) -> list[User]:
    return list((await session.scalars(select(User).where(User.role == Role.EDITOR, User.disabled.is_(False))
                                       .order_by(User.name))).all())


def _blank(config) -> ProfileForm:
    """A new account's form: the instance's imprint and privacy notice offered as profile fields."""
    return ProfileForm(language=config.instance.language, fields=(
        ("Website", ""), ("Impressum", config.privacy.imprint_url or ""),
        ("Datenschutz", config.privacy.privacy_url or ""), ("", "")))


async def _list_page(request: web.Request, typed: ProfileForm | None = None,
                     problems: dict | None = None, status: int = 200) -> web.Response:
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        editors = await _editors(session)
    return render(request, "admin_accounts.html", {
        "accounts": config.actors, "typed": typed or _blank(config), "problems": problems or {}, "editors": editors,
        "policies": QUOTE_POLICIES, "languages": LANGUAGES, "max_fields": MAX_FIELDS,
        "host": request.app[CONFIG].instance.base_url.split("://", 1)[-1]}, status=status)


async def account_list(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=ADMINS)
    return await _list_page(request)


async def account_create(request: web.Request) -> web.StreamResponse:
    admin = require_user(request, roles=ADMINS)
    typed = read_profile(request[FORM])
    async with request.app[SESSIONS].begin() as session:
        result = await profiles.create_account(session, request.app[CONFIG], typed, admin)
        if not result.ok:
            await session.rollback()
    if not result.ok:
        return await _list_page(request, typed, problems_of(result), status=422)
    raise see_other(f"/admin/accounts/{typed.name}?done=created")


async def _account_page(request: web.Request, typed: ProfileForm | None = None, problems: dict | None = None,
                        status: int = 200) -> web.Response:
    config = request.app[CONFIG]
    name = request.match_info["name"]
    async with request.app[SESSIONS]() as session:
        await refresh(session, config)  # the page shows what was just saved, whatever the request began with
        account = config.actor(name)
        if account is None:
            raise web.HTTPNotFound(text=N_("No such account."))
        editors = await _editors(session)
        typed = typed or ProfileForm.of(account, await profiles.current_editors(session, name))
        state = await feedimport.import_state(session, name)
    padded = tuple(typed.fields) + (("", ""),) * (MAX_FIELDS - len(typed.fields))
    return render(request, "admin_account.html", {
        "account": account, "typed": typed, "fields": padded, "problems": problems or {}, "editors": editors,
        "policies": QUOTE_POLICIES, "languages": LANGUAGES, "done": request.query.get("done"),
        "others": [a for a in config.actors if a.name != name and not a.retired],
        "platforms": config.platforms, "import_state": state}, status=status)


async def account_detail(request: web.Request) -> web.StreamResponse:
    require_user(request, roles=ADMINS)
    return await _account_page(request)


async def account_update(request: web.Request) -> web.StreamResponse:
    admin = require_user(request, roles=ADMINS)
    name = request.match_info["name"]
    typed = read_profile(request[FORM], name)
    async with request.app[SESSIONS].begin() as session:
        result = await profiles.update_account(session, request.app[CONFIG], name, typed, admin)
        if not result.ok:
            await session.rollback()
    await profiles.drop_superseded(request.app[CONFIG], result)
    if result.reason is profiles.ProfileReason.NOT_FOUND:
        raise web.HTTPNotFound(text=N_("No such account."))
    if not result.ok:
        return await _account_page(request, typed, problems_of(result), status=422)
    raise see_other(f"/admin/accounts/{name}?done=saved")


async def account_retire(request: web.Request) -> web.StreamResponse:
    admin = require_user(request, roles=ADMINS)
    name = request.match_info["name"]
    moved_to = _text(request[FORM], "moved_to") or None
    async with request.app[SESSIONS].begin() as session:
        result = await profiles.retire_account(session, request.app[CONFIG], name, moved_to, admin)
        if not result.ok:
            await session.rollback()
    if result.reason is profiles.ProfileReason.NOT_FOUND:
        raise web.HTTPNotFound(text=N_("No such account."))
    if not result.ok:
        return await _account_page(request, problems=by_field([Problem("moved_to", result.reason.description)]),
                                   status=409)
    raise see_other(f"/admin/accounts/{name}?done=retired")


async def import_change(request: web.Request) -> web.StreamResponse:
    """Adds or changes, pauses, resumes or removes the account's feed import (`action` in the form)."""
    admin = require_user(request, roles=ADMINS)
    name = request.match_info["name"]
    form = request[FORM]
    wanted = feedimport.ImportForm(
        url=_text(form, "url"), summary=form.get("summary") == "on", backfill=form.get("backfill") == "on",
        mirrors=tuple(m for m in form.getall("mirror", []) if isinstance(m, str)))
    action = _text(form, "action")
    async with request.app[SESSIONS].begin() as session:
        result = await feedimport.change_import(session, request.app[CONFIG], name, action, wanted, admin)
        if not result.ok:
            await session.rollback()
    if result.reason is feedimport.ImportChange.NOT_FOUND:
        raise web.HTTPNotFound(text=N_("No such account."))
    if not result.ok:
        return await _account_page(request, problems=by_field([Problem(result.field, result.reason.description)]),
                                   status=422)
    raise see_other(f"/admin/accounts/{name}?done=import_{action}#import")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/accounts", account_list, name="admin_accounts")
    app.router.add_post("/admin/accounts", account_create)
    account = "/admin/accounts/{name:[a-z0-9_]{1,30}}"
    app.router.add_get(account, account_detail, name="admin_account")
    app.router.add_post(account, account_update)
    app.router.add_post(account + "/retire", account_retire)
    app.router.add_post(account + "/import", import_change)
