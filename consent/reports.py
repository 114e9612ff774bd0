"""Reports (ActivityPub `Flag`) from other servers, kept for the moderators.

The sender is usually a server's instance actor (Mastodon hides the reporting person behind it); it is
still a subject, so its comment is sealed with its own key and erasable like anything else."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import Report, Subject
from consent.vault import Vault

MAX_COMMENT = 5000  # Mastodon's limit for report comments is 1000; leave room, cap the rest


class ReportState(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


async def add_report(session: AsyncSession, vault: Vault, subject: Subject | None, domain: str, comment: str | None,
                     post_ids: Sequence[int], now: datetime | None = None) -> Report:
    sealed = None
    if comment and subject is not None and subject.wrapped_key is not None:
        sealed = vault.seal(subject, "report.comment", comment[:MAX_COMMENT])
    report = Report(subject_id=subject.id if subject is not None else None, domain=domain, enc_comment=sealed,
                    post_ids=list(post_ids), state=ReportState.OPEN, received_at=now or datetime.now(timezone.utc))
    session.add(report)
    await session.flush()
    return report


async def open_reports(session: AsyncSession) -> list[Report]:
    return list((await session.scalars(select(Report).where(Report.state == str(ReportState.OPEN))
                                       .order_by(Report.id))).all())


def report_comment(vault: Vault, subject: Subject | None, report: Report) -> str | None:
    return vault.open(subject, "report.comment", report.enc_comment) if subject is not None else None
