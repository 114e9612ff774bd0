"""The inbox pipeline, in the order that keeps bad requests cheap:

size cap (the route reads at most 1 MB) → a signature must be present → bounded JSON (depth cap) →
HTTP signature verified (keys cached, re-fetched once on failure, throttled by the KeyCache) → the
activity's actor must own the key → dedupe by a keyed hash of the activity id → parse → one handler per
type → audit entry → commit → 202. Every refusal is a reason code, answered as JSON and audited with the
sender's domain only — never the body.

A reply to one of our posts is offered to the batching writer (`reply_writer`): at once when its signing
key is cached, else after the key fetch, with the profile that fetch brought (a first contact); whatever
the writer does not take in the plain case comes back here and goes the whole way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.inbound import CreateNoteIn, parse_activity
from activitypub.jsonload import JsonReason, JsonRejected, load_json
from activitypub.keycache import KeyFetcher
from activitypub.normalize import id_of
from activitypub.origins import host_of
from activitypub.profiles import ActorIn, parse_actor
from activitypub.signatures import RejectReason, Rejected, Verified, VerifyResult, check_actor, verify_request
from bridge.store.db import utcnow
from bridge.delivery.hosts import record_success
from bridge.inbound import gone
from bridge.inbound.auditing import event_for, type_label
from bridge.inbound.blocking import blocked_sender
from bridge.inbound.context import InboundContext
from bridge.inbound.dispatch import dispatch
from bridge.inbound.effects import Handled
from bridge.convert.actors import facts_of
from bridge.inbound.reply_writer import ReplyWriter
from bridge.inbound.request import Acceptance, Answer, InboundRequest, Parts, Refusal
from consent.audit import Action, Event, Outcome, record
from consent.seen import mark_seen, was_seen
from consent.subjects import ActorFacts

log = logging.getLogger("stadtbote.inbox")

_KEY_ID = re.compile(r'keyid\s*=\s*"([^"]+)"', re.IGNORECASE)
_JSON_REFUSALS = {JsonReason.TOO_LARGE: (413, Refusal.TOO_LARGE), JsonReason.TOO_DEEP: (400, Refusal.TOO_DEEP),
                  JsonReason.INVALID_JSON: (400, Refusal.INVALID_JSON),
                  JsonReason.NOT_AN_OBJECT: (400, Refusal.NOT_AN_OBJECT)}


async def receive(parts: Parts, request: InboundRequest, writer: ReplyWriter | None = None) -> Answer:
    if not _has_signature(request.headers):
        return await refuse(parts, request.headers, 401, RejectReason.NO_SIGNATURE)
    loaded = load_json(request.body)
    if isinstance(loaded, JsonRejected):
        status, reason = _JSON_REFUSALS[loaded.reason]
        return await refuse(parts, request.headers, status, reason)
    document = loaded.value
    reply = writer.wants(document) if writer is not None else None
    if reply is not None:
        answer = await _write_reply(parts, request, document, reply, writer)
        if answer is not None:
            return answer  # else: the general path below decides, one by one
    if await blocked_sender(parts, claimed_domain(request.headers), document):
        return await refuse(parts, request.headers, 403, Refusal.DOMAIN_BLOCKED)
    if gone.is_self_delete(document) and not await gone.is_known(parts, document):
        return Answer(202, Acceptance.UNKNOWN_ACTOR_DELETED)  # Mastodon's rule: no key fetch for strangers
    verified = await _verify(parts, request, document, parts.federation.keys)
    if isinstance(verified, Rejected):
        if verified.reason is RejectReason.KEY_FETCH_FAILED and gone.is_self_delete(document):
            erased = await gone.erase_if_gone(parts, document)  # the key died with the account
            if erased is not None:
                return erased
        return await refuse(parts, request.headers, verified.status, verified.reason)
    async with parts.turns.of(verified.owner):  # after verification: nobody can hold another's turn
        if reply is not None:  # the key was fetched just now: perhaps someone we have never met
            answer = await writer.submit(reply, document, host_of(verified.owner) or "",
                                         newcomer_facts(parts, verified.owner))
            if answer is not None:
                return answer
        return await _apply(parts, document, verified)


def newcomer_facts(parts: Parts, owner: str) -> ActorFacts | None:
    """The profile the key fetch of this request brought along, if it did (parsed outside the write lock)."""
    document = parts.federation.keys.recent_actor(owner)
    profile = parse_actor(document) if document is not None else None
    return facts_of(profile) if isinstance(profile, ActorIn) and profile.id == owner else None


async def _write_reply(parts: Parts, request: InboundRequest, document: dict[str, Any], reply: CreateNoteIn,
                       writer: ReplyWriter) -> Answer | None:
    """A reply verified with a cached key goes to the batching writer. The cache-only view never contacts
    the sender, so its domain block is checked in the batch rather than before verification."""
    verified = await _verify(parts, request, document, parts.federation.keys.cached_only())
    if isinstance(verified, Rejected):
        return None  # unknown key, stale date, bad signature …: the general path refuses or re-fetches
    return await writer.submit(reply, document, host_of(verified.owner) or "")


async def _verify(parts: Parts, request: InboundRequest, document: dict[str, Any], keys: KeyFetcher) -> VerifyResult:
    """The signature, and the activity's actor as the key's owner."""
    scheme = urlsplit(parts.config.instance.base_url).scheme or "https"
    verified = await verify_request(request.method, request.target, request.headers, request.body, keys,
                                    scheme=scheme)
    return check_actor(verified, document.get("actor")) if isinstance(verified, Verified) else verified


async def refuse(parts: Parts, headers: Mapping[str, str], status: int, reason: str) -> Answer:
    domain = claimed_domain(headers)
    async with parts.sessions() as session:
        await record(session, Event(Action.INBOUND_REJECTED, "remote", f"domain:{domain or 'unknown'}"[:80],
                                    Outcome.DENIED, reason=str(reason), details={"status": status}))
        await session.commit()
    log.info("inbox refused reason=%s status=%s domain=%s", reason, status, domain,
             extra={"reason": str(reason), "status": status})
    return Answer(status, str(reason))


async def _apply(parts: Parts, document: dict[str, Any], verified: Verified) -> Answer:
    domain = host_of(verified.owner) or ""
    activity_id = id_of(document.get("id"))
    async with parts.sessions() as session:
        if activity_id and await was_seen(session, parts.federation.vault, activity_id):
            return Answer(202, Acceptance.DUPLICATE)
        try:
            handled = await _handle(parts, session, document, domain, activity_id, verified.key_id)
        except IntegrityError:  # a concurrent request wrote the same row first
            await session.rollback()
            if activity_id and await was_seen(session, parts.federation.vault, activity_id):
                return Answer(202, Acceptance.DUPLICATE)
            return Answer(503, Refusal.CONFLICT)  # another process wrote the same row first: retry
    if handled.effect.status >= 400:
        return await refuse(parts, {"Signature": f'keyId="{verified.key_id}"'}, handled.effect.status, handled.effect)
    log.info("inbox accepted type=%s effect=%s domain=%s", type_label(document), handled.effect, domain)
    return Answer(202, str(handled.effect))


async def _handle(parts: Parts, session: AsyncSession, document: dict[str, Any], domain: str,
                  activity_id: str | None, key_id: str | None = None) -> Handled:
    """Dispatch and commit: the effect, the dedupe mark, the host's recovery and the audit entry together."""
    now = utcnow()
    ctx = InboundContext(parts.config, parts.federation, session, document, domain, now, key_id=key_id)
    handled = await dispatch(ctx, parse_activity(document))
    if handled.effect.status >= 400:
        await session.rollback()
        return handled
    await record_success(session, domain, now)  # any valid request clears "unavailable"
    if activity_id:
        mark_seen(session, parts.federation.vault, activity_id, now)
    await record(session, event_for(handled, document, domain))
    await session.commit()
    return handled


def _has_signature(headers: Mapping[str, str]) -> bool:
    authorization = headers.get("Authorization", "")
    return "Signature" in headers or authorization[:10].lower() == "signature "


def claimed_domain(headers: Mapping[str, str]) -> str | None:
    """The domain the signature claims (unverified): enough to see which server misbehaves."""
    for name in ("Signature-Input", "Signature", "Authorization"):
        match = _KEY_ID.search(headers.get(name, ""))
        if match:
            return host_of(match.group(1))
    return None
