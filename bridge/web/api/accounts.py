"""`/api/v1/accounts`: `verify_credentials`, `:id`, `lookup`, `relationships`, and the account figures that
Status entities show. Accounts are the configured ones: public, as on any Mastodon server."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.config.model import ActorConfig, Config
from bridge.convert.mastodon import AccountStats, account_fields, actor_to_account, relationship
from bridge.store.models import Actor, ApiToken, Post, PostState
from bridge.web.api.request import MAX_ACCOUNT_ID, NOT_FOUND, Params, api_error, authorize, path_id, read_params

PRIVATE = {"Cache-Control": "private, no-store"}  # answers for a token are never cached by proxies


async def account_stats(session: AsyncSession, actor_id: int) -> AccountStats:
    count, last = (await session.execute(
        select(func.count(Post.id), func.max(Post.published_at))
        .where(Post.actor_id == actor_id, Post.state == PostState.PUBLISHED))).one()
    return AccountStats(statuses_count=count or 0, last_status_at=last)


MAX_FIELDS = 16  # Mastodon keeps at most 4 (configurable); more rows are not read
PROFILE_IN_CONFIGURATION = ("The profile of this account is set in the server's configuration by its "
                            "administrators; it cannot be changed through the API")


async def verify_credentials(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        stats = await account_stats(session, token.actor_id)
        await session.commit()  # keeps the token's last_used_at
    return _credential_account(config, token, stats)


async def update_credentials(request: web.Request) -> web.Response:
    """`PATCH accounts/update_credentials`: an authority's profile (name, note, picture, website) lives in the
    configuration file, where its administrators keep it, so an app may send the values it shows (apps send
    the whole form back) but not change them: a change is a 422 naming the reason."""
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        params = await read_params(request)
        stats = await account_stats(session, token.actor_id)
        await session.commit()
    actor_config = _configured(config, token)
    changed = [name for name, value in (("display_name", actor_config.display_name), ("note", actor_config.summary))
               if params.get(name) not in (None, value)]
    changed += [name for name in ("avatar", "header") if params.file(name) is not None]
    shown_fields = [(f["name"], f["value"]) for f in account_fields(actor_config, html=False)]
    if params.filled("fields_attributes") and _fields_sent(params) != shown_fields:
        changed.append("fields_attributes")
    if changed:  # the names of the fields, not their values, may be logged
        raise api_error(422, f"Validation failed: {PROFILE_IN_CONFIGURATION}", "profile_in_configuration")
    return _credential_account(config, token, stats)


def _fields_sent(params: Params) -> list[tuple[str, str]]:
    """`fields_attributes[0][name]` and `[value]` (Mastodon's numbered form), without empty rows."""
    rows = [(params.get(f"fields_attributes[{i}][name]") or "", params.get(f"fields_attributes[{i}][value]") or "")
            for i in range(MAX_FIELDS)]
    return [row for row in rows if row != ("", "")]


def _configured(config: Config, token: ApiToken) -> ActorConfig:
    actor_config = config.actor(token.actor.name)
    if actor_config is None:  # the token's account was removed from the configuration
        raise api_error(404, NOT_FOUND)
    return actor_config


def _credential_account(config: Config, token: ApiToken, stats: AccountStats) -> web.Response:
    body = actor_to_account(token.actor, _configured(config, token), Uris.for_base(config.instance.base_url), stats,
                            with_source=True, language=config.instance.language)
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
    config, actor_id = request.app[CONFIG], path_id(request, MAX_ACCOUNT_ID)
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
        ids = [int(i) for i in (await read_params(request)).getlist("id") if i.isdecimal() and int(i) <= MAX_ACCOUNT_ID]
        actors = (await session.scalars(select(Actor).where(Actor.id.in_(ids)))).all() if ids else []
        await session.commit()
    known = {a.id for a in actors if config.actor(a.name) is not None}
    return web.json_response([relationship(i) for i in dict.fromkeys(ids) if i in known], headers=PRIVATE)


async def empty_for_account(request: web.Request) -> web.Response:
    """`accounts/:id/followers` and `/following`: none to show — the store keeps who follows only to deliver
    to them, never as a list for anyone to read; `/featured_tags`: none are featured. Unknown ids are 404."""
    config, actor_id = request.app[CONFIG], path_id(request, MAX_ACCOUNT_ID)
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
