"""Rights of data subjects: finding a person by what they tell us, everything stored about them (Art. 15),
and their objection (Art. 21). Erasure itself is `consent.erasure`; the bridge adds jobs and proofs.

A person names themselves by actor URI, by handle (@user@host) or by platform id ("did:plc:…",
"telegram:123"). Handles are not keys here (the actor URI is), so a handle is matched against the sealed
handles of actors on its server.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.auditlog import timestamp
from consent.consents import receipts_of
from consent.models import AuditEntry, Follower, Interaction, QuoteGrant, RemoteActor, Report, Subject
from consent.pseudonyms import normalize_identifier
from consent.quotes import OpenedGrant
from consent.replies import open_reply, replies_of
from consent.reports import report_comment
from consent.subjects import ensure_subject, find_subject, open_actor
from consent.vault import Vault

EXPORT_FORMAT = "stadtbote-subject-export/1"
TRANSFER_ACTION = "platform.transfer"


def _iso(moment: datetime | None) -> str | None:
    return timestamp(moment) if moment is not None else None


async def find_person(session: AsyncSession, vault: Vault, identifier: str) -> Subject | None:
    """The subject behind an actor URI, handle or platform id; None if unknown or not an identifier."""
    try:
        normal = normalize_identifier(identifier)
    except ValueError:
        return None
    if not normal.startswith("acct:"):
        return await find_subject(session, vault, identifier)
    host = normal.rpartition("@")[2]
    for narrowed in (True, False):  # the handle's host first; an actor may live on another host
        query = select(Subject, RemoteActor).join(RemoteActor, RemoteActor.subject_id == Subject.id)
        if narrowed:
            query = query.where(RemoteActor.domain == host)
        for subject, row in (await session.execute(query)).all():
            handle = vault.open(subject, "remote_actor.handle", row.enc_handle)
            if handle and _same_handle(handle, normal):
                return subject
    return None


def _same_handle(handle: str, normal: str) -> bool:
    try:
        return normalize_identifier(handle) == normal
    except ValueError:
        return False


async def is_objected(session: AsyncSession, vault: Vault, identifier: str) -> bool:
    """Whether this person objected (Art. 21): the inbox then stores nothing new of theirs."""
    subject = await find_subject(session, vault, identifier)
    return subject is not None and subject.objected_at is not None


async def record_objection(session: AsyncSession, vault: Vault, identifier: str,
                           now: datetime | None = None) -> Subject:
    """Marks the person as objecting, creating their pseudonymous record if we never met them, so their
    future replies and interactions are dropped too. Idempotent (the first date stays). ValueError for
    something that is no identifier, or for the handle of someone we never met."""
    subject = await find_person(session, vault, identifier)
    if subject is None:
        if normalize_identifier(identifier).startswith("acct:"):
            # Their activities arrive under their actor URI, which a handle alone does not tell us.
            raise ValueError("a handle is only known for people we met; give their actor URI")
        subject = await ensure_subject(session, vault, identifier)
    if subject.objected_at is None:
        subject.objected_at = now or datetime.now(timezone.utc)
        await session.flush()
    return subject


async def access_document(session: AsyncSession, vault: Vault, subject: Subject) -> dict[str, Any]:
    """Everything stored about the person, decrypted with their key (empty sections once erased)."""
    return {
        "format": EXPORT_FORMAT,
        "subject": {"pseudonym": subject.pseudonym, "kind": subject.kind, "first_seen": _iso(subject.created_at),
                    "erased_at": _iso(subject.erased_at), "objected_at": _iso(subject.objected_at)},
        "profile": await _profile(session, vault, subject),
        "follows": await _follows(session, subject),
        "replies": await _replies(session, vault, subject),
        "interactions": await _interactions(session, subject),
        "quote_authorizations": await _quotes(session, vault, subject),
        "consent_receipts": await receipts_of(session, vault, subject),
        "reports": await _reports(session, vault, subject),
        "transfers": await transfers_of(session, subject),
        "log_entries": await _log_entries(session, subject),
    }


async def _profile(session: AsyncSession, vault: Vault, subject: Subject) -> dict[str, Any] | None:
    row = await session.get(RemoteActor, subject.id)
    actor = open_actor(vault, subject, row) if row is not None else None
    if actor is None:
        return None
    return {"actor_uri": actor.uri, "inbox": actor.inbox, "shared_inbox": actor.shared_inbox,
            "handle": actor.handle, "name": actor.name, "signals": actor.signals, "server": row.domain,
            "fetched_at": _iso(row.fetched_at)}


async def _follows(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Follower).where(Follower.subject_id == subject.id))).all()
    return [{"account": r.actor_name, "since": _iso(r.created_at)} for r in rows]


async def _replies(session: AsyncSession, vault: Vault, subject: Subject) -> list[dict[str, Any]]:
    found = []
    for reply in await replies_of(session, subject):
        opened = open_reply(vault, subject, reply)
        if opened is None:
            continue
        found.append({"id": opened.id, "account": opened.actor_name, "post_id": opened.post_id,
                      "object_id": opened.object_id, "url": opened.url, "content_html": opened.content_html,
                      "summary": opened.summary, "state": opened.state, "legal_basis": reply.legal_basis,
                      "source": opened.signals.get("source", "fediverse"), "platform": opened.signals.get("platform"),
                      "signals": opened.signals, "received_at": _iso(opened.received_at),
                      "retain_until": _iso(opened.retain_until)})
    return found


async def _interactions(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Interaction).where(Interaction.subject_id == subject.id)
                                  .order_by(Interaction.id))).all()
    return [{"kind": r.kind, "post_id": r.post_id, "at": _iso(r.created_at)} for r in rows]


async def _quotes(session: AsyncSession, vault: Vault, subject: Subject) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(QuoteGrant).where(QuoteGrant.subject_id == subject.id))).all()
    grants = [OpenedGrant(r.token, r.actor_name, r.post_id,
                          vault.open(subject, "quote_grant.instrument", r.enc_instrument) or "") for r in rows]
    return [{"account": g.actor_name, "post_id": g.post_id, "quoting_post": g.instrument} for g in grants]


async def _reports(session: AsyncSession, vault: Vault, subject: Subject) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Report).where(Report.subject_id == subject.id))).all()
    return [{"server": r.domain, "comment": report_comment(vault, subject, r), "post_ids": list(r.post_ids or []),
             "state": r.state, "received_at": _iso(r.received_at)} for r in rows]


async def transfers_of(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """Transfer-log entries that carried this person's data to a platform (none while only the
    authority's own posts are mirrored)."""
    rows = (await session.scalars(select(AuditEntry).where(AuditEntry.subject_ref == subject.pseudonym,
                                                           AuditEntry.action == TRANSFER_ACTION)
                                  .order_by(AuditEntry.seq))).all()
    return [{"seq": e.seq, "at": timestamp(e.created_at), **{k: (e.details or {}).get(k) for k in
             ("platform", "recipient", "country", "mechanism")}} for e in rows]


async def _log_entries(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(AuditEntry).where(AuditEntry.subject_ref == subject.pseudonym)
                                  .order_by(AuditEntry.seq))).all()
    return [{"seq": e.seq, "at": timestamp(e.created_at), "action": e.action, "outcome": e.outcome,
             "purpose": e.purpose, "legal_basis": e.legal_basis} for e in rows]
