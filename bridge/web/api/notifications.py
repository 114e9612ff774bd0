"""`/api/v1/notifications` (and v2's grouped shape): the replies to the token's account's posts, as the
moderation view shows them to the account's editors — pending, approved and hidden, each with its moderation
and consent state. Replies marked as spam or abuse, deleted ones, and those whose author was erased are not
shown; nothing here changes a reply (moderation stays on the web, with its audit).
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.normalize import web_url
from activitypub.uris import Uris
from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.convert.notifications import MentionFacts, grouped_notifications, mention_notification
from bridge.store.models import ApiToken
from bridge.web.api.accounts import PRIVATE
from bridge.web.api.pages import link_header, page_ids, read_cursor
from bridge.web.api.request import MAX_ROW_ID, NOT_FOUND, Params, api_error, authorize, path_id, read_params
from consent.consents import consent_states
from consent.models import RemoteActor, Reply, Subject
from consent.moderation import ModerationState
from consent.replies import open_reply
from consent.subjects import open_actor

SHOWN_STATES = (ModerationState.PENDING, ModerationState.APPROVED, ModerationState.HIDDEN)
MENTION = "mention"
KEPT = ("limit", "types[]", "exclude_types[]")


def _replies(actor_name: str) -> Select:
    return select(Reply.id).where(Reply.actor_name == actor_name, Reply.state.in_([str(s) for s in SHOWN_STATES]))


def _wants_mentions(params: Params) -> bool:
    types, excluded = params.getlist("types"), params.getlist("exclude_types")
    return (not types or MENTION in types) and MENTION not in excluded


async def _notifications(request: web.Request, session: AsyncSession, token: ApiToken, ids: list[int]) -> list[dict]:
    """The notifications of `ids` (newest first), opened with the authors' keys; erased authors drop out."""
    if not ids:
        return []
    vault = request.app[FEDERATION].vault
    rows = (await session.execute(
        select(Reply, Subject, RemoteActor).join(Subject, Subject.id == Reply.subject_id)
        .outerjoin(RemoteActor, RemoteActor.subject_id == Reply.subject_id).where(Reply.id.in_(ids)))).all()
    consents = await consent_states(session, ids)
    avatar = Uris.for_base(request.app[CONFIG].instance.base_url).url("/avatars/original/missing.png")
    found = {}
    for reply, subject, actor_row in rows:
        opened = open_reply(vault, subject, reply)
        actor = open_actor(vault, subject, actor_row) if actor_row is not None else None
        if opened is None or (actor_row is not None and actor is None):
            continue  # the author was erased: nothing of them is left to show
        source = str(opened.signals.get("platform") or opened.signals.get("source") or subject.kind)
        facts = MentionFacts(reply.id, reply.post_id, (actor.name or actor.handle or actor.uri) if actor else source,
                             actor.handle if actor else None, web_url(actor.uri) if actor else None,
                             web_url(opened.url), opened.content_html, opened.summary, reply.received_at,
                             reply.state, consents.get(reply.id))
        found[reply.id] = mention_notification(facts, token.actor_id, avatar)
    return [found[i] for i in ids if i in found]


async def _page(request: web.Request) -> tuple[list[dict], list[int]]:
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        params = await read_params(request)
        cursor = read_cursor(params, default=40 if request.path.startswith("/api/v2/") else 20)
        ids = await page_ids(session, _replies(token.actor.name), Reply.id, cursor) if _wants_mentions(params) else []
        body = await _notifications(request, session, token, ids)
        await session.commit()  # keeps the token's last_used_at
    return body, ids


async def list_notifications(request: web.Request) -> web.Response:
    body, ids = await _page(request)
    links = link_header(request.app[CONFIG].instance.base_url, request, ids, KEPT)
    return web.json_response(body, headers=PRIVATE | links)


async def list_grouped(request: web.Request) -> web.Response:
    """Mastodon 4.3's grouped notifications; mentions are never grouped."""
    body, ids = await _page(request)
    links = link_header(request.app[CONFIG].instance.base_url, request, ids, KEPT + ("grouped_types[]",))
    return web.json_response(grouped_notifications(body), headers=PRIVATE | links)


async def show_notification(request: web.Request) -> web.Response:
    reply_id = path_id(request, MAX_ROW_ID)
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        ids = list((await session.scalars(_replies(token.actor.name).where(Reply.id == reply_id))).all())
        body = await _notifications(request, session, token, ids)
        await session.commit()
    if not body:
        raise api_error(404, NOT_FOUND)
    return web.json_response(body[0], headers=PRIVATE)


async def unread_count(request: web.Request) -> web.Response:
    """Read markers are not kept, so "unread" is what still waits for moderation."""
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        count = await session.scalar(select(func.count(Reply.id)).where(
            Reply.actor_name == token.actor.name, Reply.state == str(ModerationState.PENDING)))
        await session.commit()
    return web.json_response({"count": count or 0}, headers=PRIVATE)


async def acknowledge(request: web.Request) -> web.Response:
    """`dismiss` and `clear`: answered as Mastodon does, and nothing changes — a reply leaves the list when a
    moderator decides on it in the moderation view, not when an app swipes it away."""
    if "id" in request.match_info:
        path_id(request, MAX_ROW_ID)
    async with request.app[SESSIONS]() as session:
        await authorize(request, session)
        await session.commit()
    return web.json_response({}, headers=PRIVATE)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/notifications", list_notifications)
    app.router.add_get("/api/v1/notifications/unread_count", unread_count)
    app.router.add_get(r"/api/v1/notifications/{id:\d+}", show_notification)
    app.router.add_post(r"/api/v1/notifications/{id}/dismiss", acknowledge)
    app.router.add_post("/api/v1/notifications/clear", acknowledge)
    app.router.add_get("/api/v2/notifications", list_grouped)
