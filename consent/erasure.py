"""Erasing a subject: every row about them goes, and their key is destroyed (crypto-shredding), so any
copy of their sealed fields — in backups too — can no longer be read.

The subject row itself stays with its pseudonym and `erased_at`, so the audit entries that name the
pseudonym keep their meaning and the erasure can be proven to the person who asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import Follower, Interaction, QuoteGrant, RemoteActor, Reply, Report, Subject
from consent.vault import Vault


@dataclass(frozen=True)
class Erasure:
    subject_id: int
    followers: int
    replies: int
    interactions: int
    quote_grants: int
    reports: int  # reports they sent: kept for moderation, their comment dropped
    remote_actor: int

    def as_dict(self) -> dict[str, int]:
        return {"followers": self.followers, "replies": self.replies, "interactions": self.interactions,
                "quote_grants": self.quote_grants, "reports": self.reports, "remote_actor": self.remote_actor}


async def erase_subject(session: AsyncSession, vault: Vault, subject: Subject,
                        now: datetime | None = None) -> Erasure:
    """Idempotent: erasing an erased subject finds nothing more to delete."""
    counts = {}
    for name, model in (("followers", Follower), ("replies", Reply), ("interactions", Interaction),
                        ("quote_grants", QuoteGrant), ("remote_actor", RemoteActor)):
        counts[name] = (await session.execute(delete(model).where(model.subject_id == subject.id))).rowcount
    counts["reports"] = (await session.execute(update(Report).where(
        Report.subject_id == subject.id, Report.enc_comment.is_not(None)).values(enc_comment=None))).rowcount
    if subject.wrapped_key is not None:
        subject.wrapped_key = None
        subject.erased_at = now or datetime.now(timezone.utc)
    vault.forget(subject.id)
    await session.flush()
    return Erasure(subject.id, **counts)
