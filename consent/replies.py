"""Replies and mentions from the fediverse: kept for moderation under the public task (GDPR Art. 6(1)(e))
until their retention deadline, every personal field sealed with the author's own key.

Only the author may change or erase a reply: each function takes the subject who asked and does
nothing to a reply of someone else.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.fingerprints import Kind, fingerprint
from consent.models import Reply, Subject
from consent.vault import Vault
from consent.moderation import ModerationState

LEGAL_BASIS = "gdpr_6_1_e"


class ReplyReason(enum.StrEnum):
    STORED = "stored"
    ALREADY_STORED = "already_stored"
    UPDATED = "updated"
    ERASED = "erased"
    NOT_FOUND = "not_found"
    NOT_AUTHOR = "not_author"
    SUBJECT_ERASED = "subject_erased"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    ReplyReason.STORED: "the reply was stored for moderation",
    ReplyReason.ALREADY_STORED: "the reply was stored before; nothing changed",
    ReplyReason.UPDATED: "the reply was updated by its author",
    ReplyReason.ERASED: "the reply was erased",
    ReplyReason.NOT_FOUND: "no such reply is stored",
    ReplyReason.NOT_AUTHOR: "the reply belongs to someone else",
    ReplyReason.SUBJECT_ERASED: "the author was erased; nothing is stored for them",
}


@dataclass(frozen=True)
class ReplyFacts:
    """A verified reply or mention. `content_html` must already be sanitised."""

    object_id: str
    actor_name: str  # our account it concerns
    post_id: int | None  # our post it answers; None for a mention outside our threads
    content_html: str
    summary: str | None = None
    url: str | None = None
    signals: dict = field(default_factory=dict)  # consent.signals.reply_snapshot(...)


@dataclass(frozen=True)
class ReplyResult:
    reason: ReplyReason
    reply_id: int | None = None


@dataclass(frozen=True)
class OpenedReply:
    id: int
    subject_id: int
    post_id: int | None
    actor_name: str
    object_id: str
    url: str | None
    content_html: str
    summary: str | None
    state: str
    signals: dict
    received_at: datetime
    retain_until: datetime


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def find_reply(session: AsyncSession, vault: Vault, object_id: str) -> Reply | None:
    return await session.scalar(select(Reply).where(Reply.object_hash == fingerprint(vault, Kind.OBJECT, object_id)))


async def store_reply(session: AsyncSession, vault: Vault, subject: Subject, facts: ReplyFacts, retention: timedelta,
                      now: datetime | None = None) -> ReplyResult:
    """Store a new reply as pending; `retention` (a bridge setting) sets `retain_until`."""
    if subject.wrapped_key is None:
        return ReplyResult(ReplyReason.SUBJECT_ERASED)
    existing = await find_reply(session, vault, facts.object_id)
    if existing is not None:
        reason = ReplyReason.ALREADY_STORED if existing.subject_id == subject.id else ReplyReason.NOT_AUTHOR
        return ReplyResult(reason, existing.id)
    reply = new_reply(vault, subject, facts, retention, now or _now())
    session.add(reply)
    await session.flush()
    return ReplyResult(ReplyReason.STORED, reply.id)


def new_reply(vault: Vault, subject: Subject, facts: ReplyFacts, retention: timedelta, now: datetime) -> Reply:
    return Reply(**reply_values(vault, subject, facts, retention, now))


def reply_values(vault: Vault, subject: Subject, facts: ReplyFacts, retention: timedelta,
                 now: datetime) -> dict[str, Any]:
    """The columns of a new pending reply, sealed. `store_reply` checks for the note first; a batching
    caller checks with `stored_among`, inserts with `insert_replies`, and relies on the unique object hash
    against a concurrent twin."""
    return {"subject_id": subject.id, "object_hash": fingerprint(vault, Kind.OBJECT, facts.object_id),
            "post_id": facts.post_id, "actor_name": facts.actor_name,
            "enc_object_id": vault.seal(subject, "reply.object_id", facts.object_id),
            "state": ModerationState.PENDING, "legal_basis": LEGAL_BASIS, "received_at": now,
            "retain_until": now + retention, **_sealed_content(vault, subject, facts)}


async def insert_replies(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT for a batch (no ids come back: the inbox needs none)."""
    if rows:
        await session.execute(insert(Reply.__table__), rows)  # Core: no ORM work per row


async def stored_among(session: AsyncSession, vault: Vault, object_ids: Iterable[str]) -> dict[str, int]:
    """Those of `object_ids` stored as replies already, with the subject each is stored for: one query for
    a whole inbox batch."""
    by_hash = {fingerprint(vault, Kind.OBJECT, o): o for o in object_ids}
    if not by_hash:
        return {}
    rows = await session.execute(select(Reply.object_hash, Reply.subject_id).where(Reply.object_hash.in_(by_hash)))
    return {by_hash[object_hash]: subject_id for object_hash, subject_id in rows.all()}


async def update_reply(session: AsyncSession, vault: Vault, subject: Subject, facts: ReplyFacts,
                       now: datetime | None = None) -> ReplyResult:
    """The author edited the reply: new content and signals; the moderation state and deadline stay."""
    reply = await find_reply(session, vault, facts.object_id)
    if reply is None:
        return ReplyResult(ReplyReason.NOT_FOUND)
    if reply.subject_id != subject.id:
        return ReplyResult(ReplyReason.NOT_AUTHOR, reply.id)
    if subject.wrapped_key is None:
        return ReplyResult(ReplyReason.SUBJECT_ERASED, reply.id)
    for column, value in _sealed_content(vault, subject, facts).items():
        setattr(reply, column, value)
    reply.updated_at = now or _now()
    return ReplyResult(ReplyReason.UPDATED, reply.id)


async def erase_reply(session: AsyncSession, vault: Vault, subject: Subject, object_id: str) -> ReplyResult:
    reply = await find_reply(session, vault, object_id)
    if reply is None:
        return ReplyResult(ReplyReason.NOT_FOUND)
    if reply.subject_id != subject.id:
        return ReplyResult(ReplyReason.NOT_AUTHOR, reply.id)
    reply_id = reply.id
    await session.delete(reply)
    await session.flush()
    return ReplyResult(ReplyReason.ERASED, reply_id)


def open_reply(vault: Vault, subject: Subject, reply: Reply) -> OpenedReply | None:
    """The clear reply, or None once the author's key is destroyed."""
    object_id = vault.open(subject, "reply.object_id", reply.enc_object_id)
    content = vault.open(subject, "reply.content", reply.enc_content)
    if object_id is None or content is None:
        return None
    return OpenedReply(reply.id, reply.subject_id, reply.post_id, reply.actor_name, object_id,
                       vault.open(subject, "reply.url", reply.enc_url), content,
                       vault.open(subject, "reply.summary", reply.enc_summary), reply.state, dict(reply.signals or {}),
                       reply.received_at, reply.retain_until)


async def replies_of(session: AsyncSession, subject: Subject) -> list[Reply]:
    return list((await session.scalars(select(Reply).where(Reply.subject_id == subject.id).order_by(Reply.id))).all())


def _sealed_content(vault: Vault, subject: Subject, facts: ReplyFacts) -> dict[str, Any]:
    return {"enc_content": vault.seal(subject, "reply.content", facts.content_html),
            "enc_summary": vault.seal(subject, "reply.summary", facts.summary) if facts.summary else None,
            "enc_url": vault.seal(subject, "reply.url", facts.url) if facts.url else None,
            "signals": dict(facts.signals)}
