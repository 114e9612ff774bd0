"""What an editor reads about a send: one status per (post, platform), the same words on every page (the
post's platform page, the dashboard, the admin's platform accounts), with the time of the last attempt and,
while it waits, of the next one. Derived from the send row, its pending job and the platform account, so
that a send whose job no longer runs never reads "queued"; and what an account's last check found."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.platforms.sends import ordering_key
from bridge.store.models import Actor, Job, JobState, Post
from bridge.platforms.connectors.base import Reason
from bridge.store.platforms import AccountStatus, PlatformAccount, PlatformSend, SendState


class SendStatus(enum.StrEnum):
    WAITING = "waiting"  # queued, not tried yet
    RETRYING = "retrying"  # an attempt did not get through; the next one is planned
    PAUSED = "paused"  # the platform asked us to slow down
    RECONNECT = "reconnect"  # the account's credentials were refused: nothing goes out until reconnected
    SENDING = "sending"
    SENT = "sent"
    UNKNOWN = "unknown"
    FAILED = "failed"
    STOPPED = "stopped"  # queued, but no job runs for it any more
    CANCELLED = "cancelled"
    DELETED = "deleted"
    MANUAL = "manual"
    BY_HAND = "by_hand"

    @property
    def description(self) -> str:
        """English source text; the pages show its translation."""
        return STATUS_TEXT[self]


STATUS_TEXT = {
    SendStatus.WAITING: "waiting to be sent",
    SendStatus.RETRYING: "not sent yet: will try again",
    SendStatus.PAUSED: "not sent yet: paused by the platform",
    SendStatus.RECONNECT: "not sent: the account must be reconnected",
    SendStatus.SENDING: "being sent",
    SendStatus.SENT: "sent",
    SendStatus.UNKNOWN: "unclear whether it arrived: please check",
    SendStatus.FAILED: "not sent",
    SendStatus.STOPPED: "not sent: sending stopped",
    SendStatus.CANCELLED: "not sent: cancelled",
    SendStatus.DELETED: "deleted on the platform",
    SendStatus.MANUAL: "remove it on the platform by hand",
    SendStatus.BY_HAND: "to be posted by hand: copy the text, post it there, then mark it done",
}
_SETTLED = {SendState.SENT: SendStatus.SENT, SendState.UNKNOWN: SendStatus.UNKNOWN,
            SendState.FAILED: SendStatus.FAILED, SendState.CANCELLED: SendStatus.CANCELLED,
            SendState.DELETED: SendStatus.DELETED, SendState.MANUAL: SendStatus.MANUAL,
            SendState.BY_HAND: SendStatus.BY_HAND}


@dataclass(frozen=True)
class SendView:
    post_id: int
    platform_id: str
    status: SendStatus
    reason: str | None  # the reason code of the last outcome
    detail: str | None  # the platform's own short text
    last_attempt: datetime | None  # None: not tried yet
    next_attempt: datetime | None  # while it waits
    remote_url: str | None
    # Sent, but a part did not go along: why the platform refused the native poll (Telegram), or the captions
    # added after the video (Facebook, YouTube), as a reason text.
    poll_failed: str | None = None
    captions_failed: str | None = None

    @property
    def attention(self) -> bool:
        """Whether an editor should look (or act)."""
        return self.status in (SendStatus.RECONNECT, SendStatus.UNKNOWN, SendStatus.FAILED, SendStatus.STOPPED,
                               SendStatus.MANUAL, SendStatus.BY_HAND)


def status_of(row: PlatformSend, job: Job | None, account: PlatformAccount | None, now: datetime) -> SendView:
    tried = row.attempts > 0 or row.reason is not None or row.state != SendState.QUEUED
    status, next_attempt = _status(row, job, account, now)
    return SendView(row.post_id, row.platform_id, status, row.reason, row.detail, row.updated_at if tried else None,
                    next_attempt, row.remote_url if status is SendStatus.SENT else None,
                    _part_failure(row, "poll_failed") if status is SendStatus.SENT else None,
                    _part_failure(row, "captions_failed") if status is SendStatus.SENT else None)


def _part_failure(row: PlatformSend, key: str) -> str | None:
    """The reason text a connector left in the send's remote facts under `key`, or None."""
    code = (row.remote_extra or {}).get(key)
    if not code:
        return None
    return Reason(code).description if code in set(Reason) else str(code)


def _status(row: PlatformSend, job: Job | None, account: PlatformAccount | None,
            now: datetime) -> tuple[SendStatus, datetime | None]:
    if row.state in _SETTLED:
        return _SETTLED[SendState(row.state)], None
    if job is None:
        return SendStatus.STOPPED, None
    if account is not None and account.status == AccountStatus.RECONNECT_NEEDED:
        return SendStatus.RECONNECT, None
    if account is not None and account.paused_until is not None and account.paused_until > now:
        return SendStatus.PAUSED, max(account.paused_until, job.run_at)
    if row.state == SendState.SENDING or job.state == JobState.RUNNING:
        return SendStatus.SENDING, None
    later = job.run_at if job.run_at > now else None
    return (SendStatus.RETRYING if row.reason else SendStatus.WAITING), later


async def views_of(session: AsyncSession, rows: list[PlatformSend], now: datetime) -> list[SendView]:
    """The status of each send, in the order given (three queries, whatever the number of rows)."""
    if not rows:
        return []
    keys = {ordering_key(r.post_id, r.platform_id) for r in rows}
    pending: dict[str, Job] = {}
    for job in (await session.scalars(select(Job).where(
            Job.ordering_key.in_(keys), Job.state.in_((JobState.QUEUED, JobState.RUNNING))).order_by(Job.id))).all():
        pending.setdefault(job.ordering_key, job)  # the earliest: the one the send waits for
    accounts = {a.platform_id: a for a in (await session.scalars(select(PlatformAccount).where(
        PlatformAccount.platform_id.in_({r.platform_id for r in rows})))).all()}
    return [status_of(r, pending.get(ordering_key(r.post_id, r.platform_id)), accounts.get(r.platform_id), now)
            for r in rows]


class AccountHealth(enum.StrEnum):
    OK = "ok"  # the last check got through
    UNCHECKED = "unchecked"
    CHECK_FAILED = "check_failed"  # the last check did not get an answer: nothing is known
    RECONNECT = "reconnect"
    PAUSED = "paused"

    @property
    def description(self) -> str:
        return HEALTH_TEXT[self]


HEALTH_TEXT = {
    AccountHealth.OK: "working",
    AccountHealth.UNCHECKED: "not checked yet",
    AccountHealth.CHECK_FAILED: "unclear: the last check did not get through",
    AccountHealth.RECONNECT: "Reconnect needed",
    AccountHealth.PAUSED: "paused by the platform",
}


def health_of(account: PlatformAccount | None, now: datetime) -> AccountHealth:
    if account is None:
        return AccountHealth.UNCHECKED
    if account.status == AccountStatus.RECONNECT_NEEDED:
        return AccountHealth.RECONNECT
    if account.paused_until is not None and account.paused_until > now:
        return AccountHealth.PAUSED
    if account.reason:
        return AccountHealth.CHECK_FAILED
    return AccountHealth.OK if account.checked_at is not None else AccountHealth.UNCHECKED


_LATEST = (PlatformSend.updated_at.desc(), PlatformSend.id.desc())


async def latest_per_platform(session: AsyncSession, platform_ids: list[str]) -> list[PlatformSend]:
    """The most recently changed send of each platform (one small query per configured platform)."""
    found: list[PlatformSend] = []
    for platform_id in platform_ids:
        found += (await session.scalars(select(PlatformSend).where(PlatformSend.platform_id == platform_id)
                                        .order_by(*_LATEST).limit(1))).all()
    return found


async def recent_sends(session: AsyncSession, actor_names: list[str], limit: int) -> list[tuple[PlatformSend, Post]]:
    """The most recently changed sends of the posts of these accounts, with their posts."""
    rows = (await session.execute(select(PlatformSend, Post).join(Post, Post.id == PlatformSend.post_id)
                                  .join(Actor, Actor.id == Post.actor_id).where(Actor.name.in_(actor_names))
                                  .order_by(*_LATEST).limit(limit))).all()
    return [(send, post) for send, post in rows]
