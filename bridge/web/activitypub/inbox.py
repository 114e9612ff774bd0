"""The inbox routes (`POST /inbox`, `POST /users/{name}/inbox`) and the QuoteAuthorizations we serve.

Answers are JSON with a reason code, never an HTML page: the caller is another server. The body is read
from the stream with a 1 MB cap before anything else happens (Mastodon's limit for activities).
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import select

from activitypub import vocab
from activitypub.jsonload import MAX_BYTES
from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.inbound.pipeline import receive, refuse
from bridge.inbound.reply_writer import ReplyWriter
from bridge.inbound.turns import ActorTurns
from bridge.inbound.request import Answer, InboundRequest, Parts, Refusal
from bridge.runtime.metrics import count_inbox
from bridge.store.models import Actor, Post, PostState
from consent.quotes import find_grant

log = logging.getLogger("stadtbote.inbox")
AP_TYPE = "application/activity+json"


REPLY_WRITER = web.AppKey("reply_writer", ReplyWriter)
ACTOR_TURNS = web.AppKey("actor_turns", ActorTurns)


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_reply_writer)
    app.router.add_post("/inbox", shared_inbox, name="shared_inbox")
    app.router.add_post("/users/{name}/inbox", actor_inbox, name="actor_inbox")
    app.router.add_get("/users/{name}/quote_authorizations/{token}", quote_authorization,
                       name="quote_authorization")


async def _reply_writer(app: web.Application):
    app[ACTOR_TURNS] = ActorTurns()
    writer = ReplyWriter(Parts(app[CONFIG], app[FEDERATION], app[SESSIONS], app[ACTOR_TURNS]))
    app[REPLY_WRITER] = writer
    yield
    await writer.close()


def _parts(request: web.Request) -> Parts:
    return Parts(request.app[CONFIG], request.app[FEDERATION], request.app[SESSIONS], request.app[ACTOR_TURNS])


async def shared_inbox(request: web.Request) -> web.Response:
    return await _inbox(request)


async def actor_inbox(request: web.Request) -> web.Response:
    if request.app[CONFIG].actor(request.match_info["name"]) is None:
        return _answer(Answer(404, Refusal.UNKNOWN_LOCAL_ACTOR))
    return await _inbox(request)


async def _inbox(request: web.Request) -> web.Response:
    parts = _parts(request)
    body = await read_capped(request, MAX_BYTES)
    if body is None:
        return _answer(await refuse(parts, request.headers, 413, Refusal.TOO_LARGE))
    try:
        answer = await receive(parts, InboundRequest(request.method, request.raw_path, request.headers, body),
                               request.app[REPLY_WRITER])
    except Exception as exc:  # a bug must not become an HTML page or a traceback to the sender
        log.error("inbox crashed: %s", exc.__class__.__name__, exc_info=False)
        answer = Answer(500, Refusal.INTERNAL_ERROR)
    return _answer(answer)


async def read_capped(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds `limit` (a declared or an actual length)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(answer: Answer) -> web.Response:
    count_inbox(answer.reason)  # every inbox answer passes here, refusals included
    return web.json_response(answer.body(), status=answer.status)


async def quote_authorization(request: web.Request) -> web.Response:
    """FEP-044f: servers dereference the authorization before showing a quote of our post."""
    name, token = request.match_info["name"], request.match_info["token"]
    federation = request.app[FEDERATION]
    async with request.app[SESSIONS]() as session:
        grant = await find_grant(session, federation.vault, name, token)
        published = grant is not None and await session.scalar(
            select(Post.id).join(Actor, Actor.id == Post.actor_id).where(
                Post.id == grant.post_id, Actor.name == name, Post.state == PostState.PUBLISHED)) is not None
    if not published:
        return web.json_response({"error": "not_found"}, status=404)
    uris = federation.uris
    document = vocab.quote_authorization(uris, name, token, grant.instrument, uris.note(name, str(grant.post_id)))
    return web.json_response(document, content_type=AP_TYPE, headers={"Cache-Control": "no-store"})
