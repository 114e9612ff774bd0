"""Mirroring posts to platforms: one `platform_send` row and one job per (post, platform).

States: queued → sending → sent | failed | unknown (and cancelled, deleted, manual). The row is set to
`sending` and committed *before* the request leaves, so a crash or timeout can never be mistaken for
"not sent": the next run reconciles with the platform's own handle before it would send again, and where
the platform has none (Telegram) the editor decides. Jobs of one (post, platform) share an ordering key,
so an edit or delete never overtakes the publish; a rate-limited platform pauses only itself.

`posts.py` calls `enqueue_sends` when a post becomes public and `enqueue_change` on edit and delete;
`publishing.polls` calls `enqueue_poll_close` when a poll closes.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.queue import jobs
from bridge.config.model import PlatformConfig
from bridge.store.db import utcnow
from bridge.store.models import Post
from bridge.store.platforms import PlatformSend, SendState
from bridge.platforms.states import move
from consent.audit import Action, Event, record

SEND_JOB = "platform_send"
BACKFEED_JOB = "platform_backfeed"
SEND_ATTEMPTS = 10
ENDED = (SendState.CANCELLED, SendState.DELETED, SendState.MANUAL, SendState.FAILED)


class Change(enum.StrEnum):
    PUBLISH = "publish"
    EDIT = "edit"
    DELETE = "delete"
    CLOSE_POLL = "close_poll"  # our poll closed: end the platform's own poll too (Telegram stopPoll)


class Decision(enum.StrEnum):
    RETRY = "retry"  # the editor checked: it is not there; send again
    MARK_SENT = "mark_sent"  # the editor checked: it is there; do not send again


def ordering_key(post_id: int, platform_id: str) -> str:
    return f"platform:{platform_id}:{post_id}"


def stable_handle(post_id: int, platform_id: str, salt: str = "") -> str:
    """The same for every attempt of one (post, platform): the idempotency key and the record key seed.
    `<post id>-<hash>`: the post id carries its creation time, which Bluesky's record key (a TID) uses."""
    digest = hashlib.sha256(f"stadtbote:{post_id}:{platform_id}{salt}".encode()).hexdigest()[:32]
    return f"{post_id}-{digest}"


async def send_row(session: AsyncSession, post_id: int, platform_id: str) -> PlatformSend | None:
    return await session.scalar(select(PlatformSend).where(PlatformSend.post_id == post_id,
                                                           PlatformSend.platform_id == platform_id))


async def sends_of(session: AsyncSession, post_id: int) -> list[PlatformSend]:
    query = select(PlatformSend).where(PlatformSend.post_id == post_id).order_by(PlatformSend.platform_id)
    return list((await session.scalars(query)).all())


async def _enqueue(session: AsyncSession, post_id: int, platform_id: str, change: Change) -> None:
    await jobs.enqueue(session, SEND_JOB, {"post_id": post_id, "platform_id": platform_id, "change": str(change)},
                       post_id=post_id, max_attempts=SEND_ATTEMPTS, ordering_key=ordering_key(post_id, platform_id))


async def enqueue_sends(session: AsyncSession, post: Post) -> None:
    """In the publishing transaction: one row and one job per selected platform (transactional outbox)."""
    now = utcnow()
    for platform_id in dict.fromkeys(post.mirrors or []):
        row = await send_row(session, post.id, platform_id)
        if row is not None and row.state not in (SendState.CANCELLED, SendState.FAILED):
            continue  # published once already: mirrors are not sent twice
        if row is None:
            row = PlatformSend(post_id=post.id, platform_id=platform_id, handle=stable_handle(post.id, platform_id),
                               state=SendState.QUEUED, remote_extra={}, attempts=0, created_at=now)
            session.add(row)
        move(row, SendState.QUEUED, now)
        row.reason, row.detail, row.last_action = None, None, "publish"
        await session.flush()
        await _enqueue(session, post.id, platform_id, Change.PUBLISH)


async def enqueue_change(session: AsyncSession, post: Post, change: Change) -> None:
    """An edit or delete of a public post follows it to every platform that has (or may have) a copy."""
    now = utcnow()
    for row in await sends_of(session, post.id):
        if change is Change.DELETE and row.state in (SendState.QUEUED, SendState.BY_HAND):
            move(row, SendState.CANCELLED, now)  # its job was cancelled with the post's; nothing is posted by hand
            continue
        if row.state in ENDED or (change is Change.EDIT and row.state != SendState.SENT):
            continue
        await _enqueue(session, post.id, row.platform_id, change)


async def enqueue_poll_close(session: AsyncSession, post: Post) -> None:
    """Our poll closed (at its end or early): copies with a native poll of their own (`poll_message_id`),
    or still on their way, get a job to close it; after the publish, by the ordering key."""
    for row in await sends_of(session, post.id):
        on_way = row.state in (SendState.QUEUED, SendState.SENDING, SendState.UNKNOWN)
        if on_way or (row.state == SendState.SENT and (row.remote_extra or {}).get("poll_message_id")):
            await _enqueue(session, post.id, row.platform_id, Change.CLOSE_POLL)


async def decide(session: AsyncSession, post_id: int, platform_id: str, decision: Decision, actor_role: str,
                 actor_ref: str) -> bool:
    """An editor resolves an unknown outcome (or retries a failed send). False when nothing to decide."""
    row = await send_row(session, post_id, platform_id)
    allowed = (SendState.UNKNOWN, SendState.FAILED) if decision is Decision.RETRY else (SendState.UNKNOWN,)
    if row is None or row.state not in allowed:
        return False
    now = utcnow()
    if decision is Decision.MARK_SENT:
        move(row, SendState.SENT, now)
        row.sent_at = now
    else:
        move(row, SendState.QUEUED, now)
        row.first_sent_at = None
        await _enqueue(session, post_id, platform_id, Change.PUBLISH)
    row.reason, row.detail = f"editor_{decision}", None
    row.handle = row.handle if decision is Decision.MARK_SENT else _next_handle(row)
    await record(session, Event(Action.PLATFORM_DECIDED, actor_role, actor_ref, subject_ref=f"post:{post_id}",
                                details={"platform": platform_id, "decision": str(decision)}))
    return True


async def mark_by_hand(session: AsyncSession, post_id: int, platform: PlatformConfig, actor_role: str,
                       actor_ref: str, actor_name: str) -> bool:
    """An editor posted the prepared text on a platform without an API (XING) and says so: the send is done,
    by whom and when is kept on the row, and the transfer log records it as every send. False when there is
    nothing waiting to be posted by hand."""
    row = await send_row(session, post_id, platform.id)
    if row is None or row.state != SendState.BY_HAND:
        return False
    now = utcnow()
    move(row, SendState.SENT, now)
    row.sent_at, row.reason, row.detail = now, "sent_by_hand", None
    row.remote_extra = {"by": actor_ref, "by_name": actor_name, "at": now.isoformat()}
    details = {"platform": platform.id, "kind": platform.kind, "post_id": post_id, "action": "publish_by_hand",
               "recipient": platform.recipient, "country": platform.country,
               "mechanism": platform.transfer_mechanism}
    await record(session, Event(Action.PLATFORM_TRANSFER, actor_role, actor_ref, subject_ref=f"post:{post_id}",
                                purpose="public_relations", details=details), now)
    await record(session, Event(Action.PLATFORM_SENT, actor_role, actor_ref, subject_ref=f"post:{post_id}",
                                reason="sent_by_hand", details=details), now)
    return True


def _next_handle(row: PlatformSend) -> str:
    """After an editor said "not there", a fresh handle: the old one may be remembered as used."""
    return stable_handle(row.post_id, row.platform_id, f":retry:{row.handle}")


Cadence = tuple[tuple[timedelta, timedelta], ...]
DEFAULT_CADENCE: Cadence = ((timedelta(minutes=15), timedelta(days=1)), (timedelta(hours=1), timedelta(days=7)),
                            (timedelta(days=1), timedelta(days=30)))


def cadence_of(platform: PlatformConfig, default: Cadence) -> Cadence | None:
    """The platform's `backfeed_cadence` stages, the default without one, None with `backfeed = false`."""
    if platform.credentials.get("backfeed") is False:
        return None
    stages = platform.credentials.get("backfeed_cadence")
    if isinstance(stages, list) and all(isinstance(s, list) and len(s) == 2 for s in stages):
        return tuple((timedelta(minutes=int(a)), timedelta(minutes=int(b))) for a, b in stages)
    return default


def first_backfeed(platform: PlatformConfig, default: Cadence) -> timedelta | None:
    """When to look for replies after a send: the first stage of the platform's own cadence."""
    stages = cadence_of(platform, default)
    return backfeed_delay(timedelta(0), stages) if stages else None


def backfeed_delay(attempt_age: timedelta, cadence: Cadence) -> timedelta | None:
    """Bridgy-like: (interval, until age) stages; None once the post is older than the last stage."""
    for interval, until in cadence:
        if attempt_age < until:
            return interval
    return None
