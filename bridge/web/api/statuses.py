"""`/api/v1/statuses`: create, show, edit (`PUT`), delete, and the edit's `history` and `source`, on the
one post service.

Posts for an account with four-eyes approval are created "awaiting approval". Mastodon has no such
state, so the answer is the ordinary Status (or ScheduledStatus when a time was given) with `url: null`
— there is no public page yet — and the vendor field `stadtbote.state`. Clients show the post as sent,
which is true: it is in the authority's queue, and its id works with GET and DELETE. Answering with an
error instead would make scripts retry and file the same post twice.
"""

from __future__ import annotations

import enum
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import Uris
from bridge.publishing import idempotency
from bridge.publishing.eventrules import EventDraft
from bridge.publishing.pollrules import PollDraft
from bridge.reach.figures import interaction_counts
from bridge.appkeys import CONFIG, SESSIONS
from bridge.config.model import Config
from bridge.convert.mastodon import (empty_context, post_to_history, post_to_scheduled_status, post_to_source,
                                    post_to_status)
from bridge.store.db import utcnow
from bridge.store.models import ApiToken, EditState, Post, PostRevision, PostState
from bridge.publishing.posts import (POST_TEXT, Description, Draft, PostReason, Refusal, create_post, delete_post,
                                     edit_post)
from bridge.web.api.accounts import PRIVATE, account_stats
from bridge.web.editor.compose_form import EventFields
from bridge.web.api.request import (MAX_ID, NOT_FOUND, Params, api_error, authorize, path_id, read_params,
                                    validation_error)

# Mastodon's documented rule: "Must be at least 5 minutes in the future". (Mastodon itself quietly
# publishes a time in the past at once; for an authority a stale timestamp is a mistake to report.)
MIN_SCHEDULE_OFFSET = timedelta(minutes=5)
UNSUPPORTED = {
    "in_reply_to_id": "replies cannot be posted through this API",
    "quoted_status_id": "quote posts are not supported",
}
TRUE = ("1", "true", "on", "yes")
WAITING = (PostState.SCHEDULED, PostState.AWAITING_APPROVAL)


class ScheduleReason(enum.StrEnum):
    """Why the API refuses a `scheduled_at` before the post service sees it (Mastodon's own rules)."""

    UNREADABLE = "schedule_unreadable"
    TOO_SOON = "schedule_too_soon"

    @property
    def description(self) -> str:
        return SCHEDULE_TEXT[self]


SCHEDULE_TEXT = {
    ScheduleReason.UNREADABLE: "scheduled_at is not an ISO 8601 date and time",
    ScheduleReason.TOO_SOON: "scheduled_at must be at least 5 minutes in the future",
}


def refused(refusals: list[Refusal]) -> web.HTTPException:
    """Mastodon's 422: `error` names every reason in words, `details` each by field with its reason code."""
    details: dict[str, list[dict]] = {}
    for r in refusals:
        details.setdefault(str(r.field), []).append({"error": str(r.reason), "description": r.description})
    message = "Validation failed: " + "; ".join(dict.fromkeys(r.description for r in refusals))
    return web.HTTPUnprocessableEntity(text=json.dumps({"error": message, "details": details}),
                                       content_type="application/json")


def parse_draft(params: Params, actor_name: str, now: datetime) -> Draft:
    """A Draft from Mastodon's parameters, or a 422 naming the first problem."""
    visibility = params.get("visibility")
    if visibility not in (None, "", "public"):
        raise validation_error(f'visibility "{visibility}" is not available: an authority publishes '
                               "public posts only, so visibility must be \"public\"")
    for name, problem in UNSUPPORTED.items():
        if params.filled(name):
            raise validation_error(problem)
    spoiler_text = (params.get("spoiler_text") or "").strip()
    if (params.get("sensitive") or "").lower() in TRUE and not spoiler_text:
        # There is no hidden-media flag; silently showing media a script meant to hide would be worse.
        raise validation_error("sensitive media needs a content warning: set spoiler_text")
    return Draft(actor=actor_name, text=params.get("status") or "", spoiler_text=spoiler_text,
                 language=params.get("language") or None, media_ids=_media_ids(params),
                 scheduled_at=read_scheduled_at(params.get("scheduled_at"), now), via="api",
                 poll=read_poll(params))


def read_poll(params: Params) -> PollDraft | None:
    """Mastodon's `poll[options][]`, `poll[expires_in]`, `poll[multiple]`, `poll[hide_totals]` (or a JSON
    `poll` object); whether the poll is allowed is the post service's rule."""
    options, expires, multiple, hide = (params.getlist("poll[options]"), params.get("poll[expires_in]"),
                                        params.get("poll[multiple]"), params.get("poll[hide_totals]"))
    if params.get("poll"):
        try:
            loaded = json.loads(params.get("poll") or "")
        except ValueError:
            loaded = None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("options", []), list):
            raise validation_error("poll must be an object with options and expires_in")
        options = [str(o) for o in loaded.get("options", []) if isinstance(o, (str, int, float))]
        expires, multiple, hide = (str(loaded.get("expires_in", "")), str(loaded.get("multiple", "")).lower(),
                                   str(loaded.get("hide_totals", "")).lower())
    if not options and not expires:
        return None
    if not str(expires or "").strip().isdecimal() or len(str(expires).strip()) > 9:
        raise validation_error("poll[expires_in] must be a number of seconds")
    return PollDraft(tuple(options), int(str(expires).strip()), (multiple or "").lower() in TRUE,
                     (hide or "").lower() in TRUE)


EVENT_PARAMS = ("title", "start", "end", "all_day", "timezone", "place", "address", "postal_code", "locality",
                "online_url")


def read_event(params: Params, config: Config) -> EventDraft | None:
    """Stadtbote's extension of POST /api/v1/statuses (docs/api.md): `event[title]`, `event[start]`,
    `event[end]` (ISO 8601; without an offset in the event's zone), `event[all_day]`, `event[timezone]`,
    `event[place]`, `event[address]`, `event[postal_code]`, `event[locality]`, `event[online_url]`, or a JSON
    `event` object. Read into the editor form's fields, so the same reading and the same rules
    (`eventrules.event_problems`, through the post service) apply: a broken rule is a 422 with its code."""
    values = {name: params.get(f"event[{name}]") or "" for name in EVENT_PARAMS}
    if params.get("event"):
        try:
            loaded = json.loads(params.get("event") or "")
        except ValueError:
            loaded = None
        if not isinstance(loaded, dict):
            raise validation_error("event must be an object with title and start")
        values = {name: "" if loaded.get(name) is None else str(loaded[name]) for name in EVENT_PARAMS}
    if not any(v.strip() for v in values.values()):
        return None
    fields = EventFields(title=values["title"].strip(), start=values["start"].strip(), end=values["end"].strip(),
                         all_day=values["all_day"].strip().lower() in TRUE,
                         timezone=values["timezone"].strip() or config.instance.timezone,
                         place_name=values["place"].strip(), street_address=values["address"].strip(),
                         postal_code=values["postal_code"].strip(), locality=values["locality"].strip(),
                         online_url=values["online_url"].strip())
    problems, draft = fields.draft(config)
    if problems:  # the only problem reading finds: an end that is no date and time
        raise validation_error("event[end] must be an ISO 8601 date and time")
    return draft if draft is not None else EventDraft("", None, None)


def _media_ids(params: Params) -> tuple[int, ...]:
    ids: list[int] = []
    for value in params.getlist("media_ids"):
        if not str(value).isdecimal() or int(value) > MAX_ID:  # isdigit() would pass "²", which int() refuses
            raise validation_error(POST_TEXT[PostReason.UNKNOWN_MEDIA])
        if int(value) not in ids:
            ids.append(int(value))
    return tuple(ids)


def read_scheduled_at(value: str | None, now: datetime) -> datetime | None:
    """The time in UTC; whether it lies too far ahead is the post service's rule."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)  # as Mastodon reads a time without offset
        when = when.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: an offset that moves it beyond year 1 or 9999
        raise _schedule_refused(ScheduleReason.UNREADABLE, f": {value[:40]!r}") from None
    if when < now + MIN_SCHEDULE_OFFSET:
        raise _schedule_refused(ScheduleReason.TOO_SOON)
    return when


def _schedule_refused(reason: ScheduleReason, shown: str = "") -> web.HTTPException:
    body = {"error": f"Validation failed: {reason.description}{shown}",
            "details": {"scheduled_at": [{"error": str(reason), "description": reason.description}]}}
    return web.HTTPUnprocessableEntity(text=json.dumps(body), content_type="application/json")


async def _answer(session: AsyncSession, config: Config, post: Post, *, created: bool = False,
                  key: str | None = None, source: bool = False, waiting_edit: str | None = None) -> web.Response:
    """A Status; except that creating (or repeating the creation of) a post with a time answers with
    Mastodon's ScheduledStatus while the post still waits."""
    uris = Uris.for_base(config.instance.base_url)
    waiting = post.state in WAITING
    if created and waiting and post.scheduled_at is not None:
        return web.json_response(post_to_scheduled_status(post, uris, key), headers=PRIVATE)
    stats = await account_stats(session, post.actor_id)
    counts = (await interaction_counts(session, [post.id]))[post.id]
    return web.json_response(post_to_status(post, config, uris, stats, source=source, waiting_edit=waiting_edit,
                                            counts=counts), headers=PRIVATE)


async def create_status(request: web.Request) -> web.Response:
    config, now = request.app[CONFIG], utcnow()
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        token_id = token.id  # a rollback expires the token; the id is needed afterwards
        # The key is looked up before the parameters are checked, as in Mastodon: a retry must get the
        # first post even if, say, its scheduled time has meanwhile come within 5 minutes.
        key = idempotency.normalise(request.headers.get("Idempotency-Key"))
        earlier = await idempotency.find_post(session, token.id, key, now) if key else None
        if earlier is not None:
            await session.commit()
            return await _earlier(session, config, earlier, key)
        params = await read_params(request)
        draft = replace(parse_draft(params, token.actor.name, now), event=read_event(params, config))
        result = await create_post(session, config, token.user, draft, now)
        if not result.ok:
            await session.commit()  # the token's last use, and nothing else, was written
            raise refused(list(result.refusals))
        if key:
            idempotency.remember(session, token.id, key, result.post.id, now)
        try:
            await session.commit()
        except IntegrityError:
            # A concurrent request with the same key won. (Requests of one token mostly queue up on the
            # token row's last_used_at update anyway; the unique constraint is the guarantee.)
            await session.rollback()
            earlier = await idempotency.find_post(session, token_id, key, now) if key else None
            if earlier is None:
                raise  # not a key collision: a genuine fault, reported as a server error
            return await _earlier(session, config, earlier, key)
        return await _answer(session, config, result.post, created=True, key=key)


async def _earlier(session: AsyncSession, config: Config, post: Post, key: str) -> web.Response:
    if post.state == PostState.DELETED:
        raise api_error(404, NOT_FOUND)  # as Mastodon: the remembered status is gone
    return await _answer(session, config, post, created=True, key=key)


async def visible_post(session: AsyncSession, post_id: int, token: ApiToken | None) -> Post:
    """Published posts are public; a post waiting for its time or its approval only for a token of the
    post's own account; drafts, failed and deleted posts for nobody (they are the web form's work)."""
    post = await session.get(Post, post_id)
    if post is None or post.state not in (PostState.PUBLISHED, *WAITING):
        raise api_error(404, NOT_FOUND)
    if post.state != PostState.PUBLISHED and (token is None or token.actor_id != post.actor_id):
        raise api_error(404, NOT_FOUND)
    return post


async def own_post(session: AsyncSession, post_id: int, token: ApiToken) -> Post:
    """A post the token's account may change: its own, published or waiting; another's is "not found"."""
    post = await visible_post(session, post_id, token)
    if post.actor_id != token.actor_id:
        raise api_error(404, NOT_FOUND)
    return post


async def show_status(request: web.Request) -> web.Response:
    post_id = path_id(request)
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session, required=False)
        post = await visible_post(session, post_id, token)
        response = await _answer(session, request.app[CONFIG], post)
        await session.commit()
        return response


async def remove_status(request: web.Request) -> web.Response:
    post_id = path_id(request)
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        post = await session.get(Post, post_id)
        # Only the token's own account's posts; someone else's is "not found", as in Mastodon.
        if post is None or post.state == PostState.DELETED or post.actor_id != token.actor_id:
            raise api_error(404, NOT_FOUND)
        result = await delete_post(session, token.user, post)
        if not result.ok:
            raise api_error(403 if result.reason is PostReason.ACTOR_NOT_ALLOWED else 422, result.description)
        await session.commit()
        return await _answer(session, request.app[CONFIG], post, source=True)


def parse_edit(params: Params, post: Post, now: datetime) -> Draft:
    """Mastodon's edit parameters as a Draft. Like Mastodon, what is not sent is gone (no `media_ids`:
    no images). A waiting post keeps its time: an edit must not publish it early."""
    for name in ("scheduled_at", "in_reply_to_id"):
        if params.filled(name):
            raise validation_error(f"{name} cannot be changed by an edit")
    draft = parse_draft(params, post.actor.name, now)
    keep = post.scheduled_at if post.state in WAITING and post.scheduled_at and post.scheduled_at > now else None
    # The poll stays as published: Mastodon clients send it again with every edit.
    return replace(draft, scheduled_at=keep, descriptions=media_descriptions(params), poll=None)


def media_descriptions(params: Params) -> tuple[Description, ...]:
    """`media_attributes[][id]` with `[description]` (Mastodon 4.1): new alt text for attached images."""
    ids, texts = params.getlist("media_attributes[][id]"), params.getlist("media_attributes[][description]")
    for item in params.getlist("media_attributes"):  # JSON bodies send a list of objects
        try:
            loaded = json.loads(item)
        except ValueError:
            loaded = None
        if not isinstance(loaded, dict):
            raise validation_error("media_attributes must be a list of objects with id and description")
        ids.append(str(loaded.get("id", "")))
        texts.append(str(loaded.get("description") or ""))
    if len(ids) != len(texts) or not all(i.isdecimal() and int(i) <= MAX_ID for i in ids):
        raise validation_error("media_attributes must name each image by id, with its description")
    return tuple(Description(int(i), text) for i, text in zip(ids, texts) if text.strip())


async def update_status(request: web.Request) -> web.Response:
    post_id, config, now = path_id(request), request.app[CONFIG], utcnow()
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        post = await own_post(session, post_id, token)
        draft = parse_edit(await read_params(request), post, now)
        result = await edit_post(session, config, token.user, post, draft, now)
        if not result.ok:
            await session.commit()  # the token's last use, and nothing else, was written
            if result.reason is PostReason.ACTOR_NOT_ALLOWED:
                raise api_error(403, result.description)
            raise refused(list(result.refusals)) if result.refusals else api_error(422, result.description)
        await session.commit()
        # On a four-eyes account the published text stays until another editor approves the edit.
        waiting = result.edit is not None and result.edit.state == EditState.PENDING
        return await _answer(session, config, post, waiting_edit=PostState.AWAITING_APPROVAL if waiting else None)


async def status_history(request: web.Request) -> web.Response:
    post_id, config = path_id(request), request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session, required=False)
        post = await visible_post(session, post_id, token)
        revisions = list((await session.scalars(select(PostRevision).where(PostRevision.post_id == post.id))).all())
        stats = await account_stats(session, post.actor_id)
        await session.commit()
    body = post_to_history(post, revisions, config, Uris.for_base(config.instance.base_url), stats)
    return web.json_response(body, headers=PRIVATE)


async def status_source(request: web.Request) -> web.Response:
    post_id = path_id(request)
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        post = await own_post(session, post_id, token)  # as Mastodon: only who may edit it reads the source
        await session.commit()
        return web.json_response(post_to_source(post), headers=PRIVATE)


async def status_context(request: web.Request) -> web.Response:
    post_id = path_id(request)
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session, required=False)
        await visible_post(session, post_id, token)
        await session.commit()
    return web.json_response(empty_context(), headers=PRIVATE)


async def no_people(request: web.Request) -> web.Response:
    """`favourited_by` and `reblogged_by`: the store keeps counts of such acts, never who did them."""
    post_id = path_id(request)
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session, required=False)
        await visible_post(session, post_id, token)
        await session.commit()
    return web.json_response([], headers=PRIVATE)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/statuses", create_status)
    app.router.add_get(r"/api/v1/statuses/{id}", show_status)
    app.router.add_put(r"/api/v1/statuses/{id}", update_status)
    app.router.add_delete(r"/api/v1/statuses/{id}", remove_status)
    app.router.add_get(r"/api/v1/statuses/{id}/history", status_history)
    app.router.add_get(r"/api/v1/statuses/{id}/source", status_source)
    app.router.add_get(r"/api/v1/statuses/{id}/context", status_context)
    app.router.add_get(r"/api/v1/statuses/{id}/favourited_by", no_people)
    app.router.add_get(r"/api/v1/statuses/{id}/reblogged_by", no_people)
