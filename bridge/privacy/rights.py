"""Rights of data subjects and retention, as the CLI and the DPO views carry them out.

The consent package does the work on its tables; this module adds what only the application knows: the
config (retention periods, register, platforms), the job queue (cancelling jobs about a person, purging
finished jobs), the log signer, and one audit entry per action.

Erasure and mirrored copies: the platforms only ever receive the authority's own posts; no reply or
other data of a citizen is sent to a platform, so erasing a person has no remote copy to delete. Their
platform comments live on the platform under the platform's own responsibility (we collected them, we
do not own them), and deleting our copy is all we can do. Transfer-log entries naming the person (if a
later feature ever mirrors their data) are listed in the erasure result for the DPO to follow up.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.config.model import Config
from bridge.store.db import utcnow
from bridge.privacy import erasure
from bridge.privacy.media_purge import purge_media
from bridge.runtime.media_storage import media_storage
from bridge.store.models import Job, JobState
from bridge.privacy.register import build_register
from bridge.runtime.secrets import load_or_create_secret
from consent.audit import Action, Event, record
from consent.auditexport import entry_proof
from consent.auditsigning import LogSigner, load_or_create_signer, write_checkpoint
from consent.models import Subject
from consent.requests import RequestKind, close_open_requests
from consent.retention import RetentionPolicy, purge
from consent.rights import access_document, find_person, record_objection, transfers_of
from consent.vault import Vault

ENDED_JOBS = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class RightsReason(enum.StrEnum):
    OK = "ok"
    UNKNOWN_SUBJECT = "unknown_subject"
    ALREADY_ERASED = "already_erased"

    @property
    def description(self) -> str:
        return {RightsReason.OK: "done",
                RightsReason.UNKNOWN_SUBJECT: "no data is stored about this person (unknown identifier)",
                RightsReason.ALREADY_ERASED: "this person was erased before; only the pseudonym remains"}[self]


@dataclass(frozen=True)
class RightsResult:
    reason: RightsReason
    document: dict[str, Any] = field(default_factory=dict)  # access export, or the erasure proof

    @property
    def ok(self) -> bool:
        return self.reason is RightsReason.OK


def vault_for(config: Config) -> Vault:
    return Vault.from_secret(load_or_create_secret(config.instance.data_dir))


def signer_for(config: Config) -> LogSigner:
    return load_or_create_signer(config.instance.data_dir, config.instance.base_url)


def retention_policy(config: Config) -> RetentionPolicy:
    r = config.retention
    days = {"replies": r.replies_days, "platform_replies": r.platform_replies_days,
            "inactive_people": r.inactive_people_days, "inbound_dedupe": r.inbound_dedupe_days,
            "security_addresses": r.security_addresses_days, "security_log": r.security_log_days,
            "reports": r.reports_days, "closed_requests": r.closed_requests_days}
    return RetentionPolicy(**{k: timedelta(days=v) for k, v in days.items()})


async def run_retention(session: AsyncSession, vault: Vault, config: Config, by: tuple[str, str],
                        now: datetime | None = None) -> dict[str, int]:
    """Purge everything due, in the caller's transaction, and log the counts (one entry)."""
    now = now or utcnow()
    counts = await purge(session, vault, retention_policy(config), now)
    cutoff = now - timedelta(days=config.retention.finished_jobs_days)
    counts["finished_jobs"] = (await session.execute(
        delete(Job).where(Job.state.in_(ENDED_JOBS), Job.finished_at <= cutoff)
        .execution_options(synchronize_session=False))).rowcount
    counts.update(await purge_media(session, media_storage(config), now))
    await record(session, Event(Action.RETENTION_PURGED, by[0], by[1], details=counts), now)
    return counts


async def export_person(session: AsyncSession, vault: Vault, config: Config, identifier: str,
                        by: tuple[str, str]) -> RightsResult:
    """Art. 15: everything stored about the person, with recipients and transfers; logged."""
    subject = await find_person(session, vault, identifier)
    if subject is None:
        return RightsResult(RightsReason.UNKNOWN_SUBJECT)
    document = await access_document(session, vault, subject)
    register = build_register(config, utcnow())
    document.update(controller=register["controller"], dpo=register["dpo"],
                    processing=_processing_for(document, register), recipients=_recipients_for(document, config),
                    generated_at=register["generated_at"])
    closed = await close_open_requests(session, RequestKind.ACCESS, subject.pseudonym, "answered")
    await record(session, Event(Action.SUBJECT_EXPORTED, by[0], by[1], subject_ref=subject.pseudonym,
                                reason="art15_access", details={"requests_closed": len(closed)}))
    return RightsResult(RightsReason.OK, document)


def _processing_for(document: dict[str, Any], register: dict[str, Any]) -> list[dict[str, Any]]:
    wanted = {"accountability"}
    if document["follows"] or document["profile"]:
        wanted.add("federation")
    if document["replies"] or document["interactions"] or document["reports"] or document["quote_authorizations"]:
        wanted.add("moderation")
    keep = ("id", "name", "purpose", "legal_basis", "law")
    return [{k: a[k] for k in keep} for a in register["activities"] if a["id"] in wanted]


def _recipients_for(document: dict[str, Any], config: Config) -> list[dict[str, Any]]:
    """Who received or holds the person's data: the authority's moderators, their own server (answers
    to them), the source platform of their comments, and any platform named in a transfer entry."""
    found = [{"name": config.instance.name, "role": "controller (moderators, DPO)", "country": "", "mechanism": ""}]
    if document["profile"]:
        found.append({"name": document["profile"]["server"], "role": "the person's own server", "country": "",
                      "mechanism": ""})
    platforms = {p.id: p for p in config.platforms}
    ids = {r.get("platform") for r in document["replies"]} | {t.get("platform") for t in document["transfers"]}
    for pid in sorted(i for i in ids if i in platforms):
        p = platforms[pid]
        found.append({"name": p.recipient, "role": f"platform {p.id} ({p.kind})", "country": p.country,
                      "mechanism": p.transfer_mechanism})
    return found


async def object_person(session: AsyncSession, vault: Vault, identifier: str, by: tuple[str, str]) -> RightsResult:
    """Art. 21: recorded; the inbox stores nothing new of theirs from now on."""
    subject = await record_objection(session, vault, identifier)
    closed = await close_open_requests(session, RequestKind.OBJECTION, subject.pseudonym, "accepted")
    await record(session, Event(Action.SUBJECT_OBJECTED, by[0], by[1], subject_ref=subject.pseudonym,
                                reason="art21_objection", details={"requests_closed": len(closed)}))
    return RightsResult(RightsReason.OK, {"pseudonym": subject.pseudonym,
                                          "objected_at": subject.objected_at.isoformat()})


async def erase_person(sessions: async_sessionmaker[AsyncSession], vault: Vault, signer: LogSigner,
                       identifier: str, by: tuple[str, str]) -> RightsResult:
    """Art. 17: rows deleted, key destroyed, queued jobs cancelled, an erasure entry appended and proven
    against a checkpoint signed right after it (the proof document is the result)."""
    async with sessions.begin() as session:
        sqlite = session.bind.dialect.name == "sqlite"
        subject = await find_person(session, vault, identifier)
        if subject is None:
            return RightsResult(RightsReason.UNKNOWN_SUBJECT)
        if subject.wrapped_key is None:
            return RightsResult(RightsReason.ALREADY_ERASED)
        entry = await _erase(session, vault, subject, by)
        seq = entry.seq
    async with sessions.begin() as session:
        checkpoint = await write_checkpoint(session, signer)
        proof = await entry_proof(session, seq, checkpoint)
    if sqlite:  # old page images in the write-ahead log go too (best effort: readers may hold it)
        async with sessions() as session:
            await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return RightsResult(RightsReason.OK, proof)


async def _erase(session: AsyncSession, vault: Vault, subject: Subject, by: tuple[str, str]):
    transfers = await transfers_of(session, subject)  # copies on platforms, for the DPO to follow up
    erased = await erasure.erase_person(session, vault, subject)
    closed = await close_open_requests(session, RequestKind.ERASURE, subject.pseudonym, "erased")
    details = {**erased, "key_destroyed": True,
               "transfers_to_follow_up": len(transfers), "requests_closed": len(closed)}
    return await record(session, Event(Action.SUBJECT_ERASED, by[0], by[1], subject_ref=subject.pseudonym,
                                       reason="art17_erasure", details=details))
