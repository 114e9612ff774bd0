"""`/api/v1/accounts`: `verify_credentials`, `update_credentials`, `:id`, `lookup`, `relationships`, and the
account figures that Status entities show. Accounts are the instance's: public, as on any Mastodon server."""

from __future__ import annotations

import json

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.config.model import ActorConfig, Config
from bridge.convert.images import MEDIA_TEXT
from bridge.convert.mastodon import AccountStats, actor_to_account, relationship
from bridge.publishing import profiles
from bridge.publishing.profiles import ProfileChange, ProfileReason, ProfileResult
from bridge.runtime.accounts import refresh
from bridge.store.models import Actor, ApiToken, Post, PostState
from bridge.web.api.request import MAX_ROW_ID, NOT_FOUND, Params, api_error, authorize, path_id, read_params

PRIVATE = {"Cache-Control": "private, no-store"}  # answers for a token are never cached by proxies


async def account_stats(session: AsyncSession, actor_id: int) -> AccountStats:
    count, last = (await session.execute(
        select(func.count(Post.id), func.max(Post.published_at))
        .where(Post.actor_id == actor_id, Post.state == PostState.PUBLISHED))).one()
    return AccountStats(statuses_count=count or 0, last_status_at=last)


MAX_FIELD_ROWS = 16  # numbered rows read of `fields_attributes`; more than four non-empty ones are refused
TRUE, FALSE = ("true", "1", "on", "t", "yes"), ("false", "0", "off", "f", "no", "")
# Settings of Mastodon's profile form this server has no choice for (an authority's account accepts every
# follower, shows no lists of people, is found and posts publicly): the value it has is accepted, as apps
# send the whole form back; another is refused, naming the setting.
FIXED = ("locked", "bot", "discoverable", "indexable", "hide_collections")
FIXED_SOURCE = ("privacy", "sensitive")
# The names of the admin form's fields as Mastodon's parameters call them.
PARAMETER = {"summary": "note", "fields": "fields_attributes", "language": "source[language]"}
UNCHANGEABLE = "setting_not_offered"


async def verify_credentials(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        stats = await account_stats(session, token.actor_id)
        await session.commit()  # keeps the token's last_used_at
    return _credential_account(config, token, stats)


async def update_credentials(request: web.Request) -> web.Response:
    """`PATCH accounts/update_credentials`: the profile of the token's account, changed with the admin form's
    rules and path (`bridge.publishing.profiles`): checked, audited, followers' servers told by an `Update`.
    Only an admin's token may change it, as only admins reach the form in the browser."""
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        if not profiles.may_edit_profile(token.user):  # before anything sent is looked at
            raise _refusal(ProfileResult(ProfileReason.NOT_ALLOWED))
        params = await read_params(request)
        shown = actor_to_account(token.actor, _configured(config, token), Uris.for_base(config.instance.base_url),
                                 with_source=True)
        change = _change(params, shown)
        result = await profiles.change_profile(session, config, token.actor.name, change, token.user,
                                                via=f"token:{token.id}")
        if not result.ok:
            await session.rollback()
            raise _refusal(result)
        await session.commit()
    await profiles.drop_superseded(config, result)
    async with request.app[SESSIONS]() as session:
        await refresh(session, config)  # the answer shows what was just saved
        stats = await account_stats(session, token.actor_id)
    return _credential_account(config, token, stats)


def _change(params: Params, shown: dict) -> ProfileChange:
    """The sent values as the admin form's; a setting the form has not, changed, is a 422 naming it."""
    source = _nested(params, "source")
    for name, value, current in ([(n, params.get(n), shown[n]) for n in FIXED]
                                 + [(f"source[{n}]", source.get(n), shown["source"][n]) for n in FIXED_SOURCE]):
        if value is not None and _as(value, current) != current:
            raise api_error(422, f"Validation failed: {name}: this server offers no other value",
                            UNCHANGEABLE)
    return ProfileChange(
        display_name=params.get("display_name"), summary=params.get("note"), fields=_fields_sent(params),
        language=source.get("language"), avatar=_upload(params, "avatar"), header=_upload(params, "header"))


def _as(value, current):
    """A sent value in the type of the current one: Mastodon's booleans ("true", "1", …), or the text."""
    if not isinstance(current, bool):
        return value
    text = str(value).lower()
    return True if text in TRUE else False if text in FALSE else value


def _nested(params: Params, name: str) -> dict:
    """`name[key]` of a form, or the object `name` of a JSON body."""
    values = {}
    loaded = _object(params.get(name))
    values.update({k: v for k, v in loaded.items() if not isinstance(v, (dict, list))})
    for key in ("privacy", "sensitive", "language"):
        if params.get(f"{name}[{key}]") is not None:
            values[key] = params.get(f"{name}[{key}]")
    return {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in values.items()
            if v is not None}


def _object(raw: str | None) -> dict:
    """A JSON object that `read_params` kept as text (from a JSON body); anything else is no object."""
    try:
        loaded = json.loads(raw) if raw and raw.startswith("{") else {}
    except ValueError:  # a form's text that merely starts with a brace
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _fields_sent(params: Params) -> tuple[tuple[str, str], ...] | None:
    """`fields_attributes[0][name]` and `[value]` (Mastodon's numbered form), or a JSON array or object of
    `{name, value}`; None when not sent. Rows empty on both sides are left out."""
    rows: list[tuple[str, str]] = []
    sent = False
    for raw in params.getlist("fields_attributes"):  # a JSON body's rows, each an object
        loaded = _object(raw)
        items = loaded.values() if loaded and all(isinstance(v, dict) for v in loaded.values()) else [loaded]
        for item in items:
            sent = True
            rows.append((str(item.get("name") or ""), str(item.get("value") or "")))
    for i in range(MAX_FIELD_ROWS):
        name, value = params.get(f"fields_attributes[{i}][name]"), params.get(f"fields_attributes[{i}][value]")
        if name is not None or value is not None:
            sent = True
            rows.append((name or "", value or ""))
    if not sent:
        return None
    return tuple(row for row in rows if row != ("", ""))


def _upload(params: Params, name: str) -> bytes | None:
    upload = params.file(name)
    return upload.file.read() if upload is not None else None


def _refusal(result: ProfileResult) -> web.HTTPException:
    """Mastodon's error shape (`error`, and `details` by parameter as its validation errors have them) with
    the reason as a code; the names of the fields, never their values, may be logged."""
    if result.reason is ProfileReason.NOT_FOUND:
        return api_error(404, NOT_FOUND)
    if result.reason is ProfileReason.NOT_ALLOWED:
        return api_error(403, f"This action is not allowed: {result.reason.description}", result.reason)
    details: dict[str, list[dict]] = {}
    for field, reason in result.problems.items():
        image = result.image_reasons.get(field)
        code, text = (image, MEDIA_TEXT[image]) if image else (reason, reason.description)
        key = PARAMETER.get(field, "fields_attributes" if field.startswith("field") else field)
        details.setdefault(key, []).append({"error": str(code), "description": text})
    message = "; ".join(f"{key}: {d['description']}" for key, items in details.items() for d in items)
    first = next((items[0]["error"] for items in details.values()), str(result.reason))
    error = api_error(422, f"Validation failed: {message or result.reason.description}", first)
    body = json.loads(error.text) | ({"details": details} if details else {})
    error.text = json.dumps(body)
    return error


def _configured(config: Config, token: ApiToken) -> ActorConfig:
    actor_config = config.actor(token.actor.name)
    if actor_config is None:  # the token's account was removed from the configuration
        raise api_error(404, NOT_FOUND)
    return actor_config


def _credential_account(config: Config, token: ApiToken, stats: AccountStats) -> web.Response:
    account = _configured(config, token)
    body = actor_to_account(token.actor, account, Uris.for_base(config.instance.base_url), stats,
                            with_source=True, language=account.language)
    return web.json_response(body, headers=PRIVATE)


async def configured_actor(session: AsyncSession, config: Config, actor_id: int) -> Actor:
    """An account of this server by id; the instance actor and removed accounts are "not found"."""
    actor = await session.get(Actor, actor_id)
    if actor is None or config.actor(actor.name) is None:
        raise api_error(404, NOT_FOUND)
    return actor


async def _account_answer(session: AsyncSession, config: Config, actor: Actor) -> web.Response:
    stats = await account_stats(session, actor.id)
    body = actor_to_account(actor, config.actor(actor.name), Uris.for_base(config.instance.base_url), stats)
    return web.json_response(body, headers=PRIVATE)


async def show_account(request: web.Request) -> web.Response:
    config, actor_id = request.app[CONFIG], path_id(request, MAX_ROW_ID)
    async with request.app[SESSIONS]() as session:
        await authorize(request, session, required=False)
        actor = await configured_actor(session, config, actor_id)
        response = await _account_answer(session, config, actor)
        await session.commit()
    return response


async def lookup_account(request: web.Request) -> web.Response:
    """`acct` as `name` or `name@this.host`; other servers' accounts are not looked up (no resolving)."""
    config = request.app[CONFIG]
    name, _, host = (request.query.get("acct") or "").strip().lstrip("@").partition("@")
    async with request.app[SESSIONS]() as session:
        await authorize(request, session, required=False)  # first: a token's scopes are checked in any case
        if config.actor(name) is None or host not in ("", Uris.for_base(config.instance.base_url).host):
            raise api_error(404, NOT_FOUND)
        actor = await session.scalar(select(Actor).where(Actor.name == name))
        if actor is None:
            raise api_error(404, NOT_FOUND)
        response = await _account_answer(session, config, actor)
        await session.commit()
    return response


async def relationships(request: web.Request) -> web.Response:
    """One Relationship per known account asked for (unknown ids are left out, as Mastodon does)."""
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        await authorize(request, session)
        ids = [int(i) for i in (await read_params(request)).getlist("id") if i.isdecimal() and int(i) <= MAX_ROW_ID]
        actors = (await session.scalars(select(Actor).where(Actor.id.in_(ids)))).all() if ids else []
        await session.commit()
    known = {a.id for a in actors if config.actor(a.name) is not None}
    return web.json_response([relationship(i) for i in dict.fromkeys(ids) if i in known], headers=PRIVATE)


async def empty_for_account(request: web.Request) -> web.Response:
    """`accounts/:id/followers` and `/following`: none to show — the store keeps who follows only to deliver
    to them, never as a list for anyone to read; `/featured_tags`: none are featured. Unknown ids are 404."""
    config, actor_id = request.app[CONFIG], path_id(request, MAX_ROW_ID)
    async with request.app[SESSIONS]() as session:
        await authorize(request, session, required=False)
        await configured_actor(session, config, actor_id)
        await session.commit()
    return web.json_response([], headers=PRIVATE)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/accounts/verify_credentials", verify_credentials)
    app.router.add_patch("/api/v1/accounts/update_credentials", update_credentials)
    app.router.add_get("/api/v1/accounts/lookup", lookup_account)
    app.router.add_get("/api/v1/accounts/relationships", relationships)
    app.router.add_get(r"/api/v1/accounts/{id:\d+}", show_account)
    app.router.add_get(r"/api/v1/accounts/{id:\d+}/followers", empty_for_account)
    app.router.add_get(r"/api/v1/accounts/{id:\d+}/following", empty_for_account)
    app.router.add_get(r"/api/v1/accounts/{id:\d+}/featured_tags", empty_for_account)
