"""The durable job table: enqueue, claim, finish. The worker loop lives in `bridge.worker`.

Claiming is one `UPDATE … RETURNING`; its choice of rows uses `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
any number of workers share the queue and no job runs twice; on SQLite (one writer at a time) the single
UPDATE is atomic by itself.
"""

from __future__ import annotations

import enum
import functools
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.db import is_postgres, utcnow
from bridge.queue.context import JobOutcome, JobStatus
from bridge.store.models import Job, JobState

# A claim lasts a minute and the worker renews it while it works (`renew`, every quarter of it): a worker
# killed mid fan-out leaves locks that expire within a minute, so a restarted one resends within 90 s.
LOCK_DURATION = timedelta(minutes=1)


class Priority(enum.IntEnum):
    """The claim takes lower numbers first (like `nice`), then the oldest due: a warning's fan-out, its
    deliveries and its platform sends overtake a routine fan-out of thousands of deliveries already queued."""

    URGENT = 0
    NORMAL = 10


async def enqueue(session: AsyncSession, kind: str, payload: dict | None = None, *,
                  run_at: datetime | None = None, post_id: int | None = None, max_attempts: int = 8,
                  ordering_key: str | None = None, priority: Priority = Priority.NORMAL) -> Job:
    job = Job(kind=kind, payload=payload or {}, run_at=run_at or utcnow(), post_id=post_id,
              state=JobState.QUEUED, max_attempts=max_attempts, ordering_key=ordering_key, priority=int(priority))
    session.add(job)
    await session.flush()
    return job


def _due(now):
    # A job waits while an earlier job with its ordering key is unfinished (Create before Update).
    earlier = aliased(Job)
    blocked = exists().where(earlier.ordering_key == Job.ordering_key, earlier.id < Job.id,
                             earlier.state.in_((JobState.QUEUED, JobState.RUNNING)))
    return (Job.state == JobState.QUEUED) & (Job.run_at <= now) & or_(Job.ordering_key.is_(None), ~blocked)


@functools.cache
def _rescue_statement(postgres: bool):
    """A running job whose lock expired belonged to a worker that died: back to the queue, in its old place.

    Done apart from the claim so the claim reads queued jobs in index order and stops after `limit` rows;
    one condition over both states made every claim read and sort the whole queue (7 ms per claim at
    5,000 queued jobs on SQLite, and growing with the queue)."""
    now = bindparam("claim_now", type_=Job.__table__.c.locked_until.type)
    expired = select(Job.id).where(Job.state == JobState.RUNNING, Job.locked_until < now)
    if postgres:
        expired = expired.with_for_update(skip_locked=True)  # two workers rescuing at once never wait or deadlock
    return update(Job).where(Job.id.in_(expired.scalar_subquery())).values(
        state=JobState.QUEUED, locked_by=None, locked_until=None).execution_options(synchronize_session=False)


@functools.cache
def _claim_statement(postgres: bool, urgent_only: bool = False):
    """Built once (with bound parameters): building and keying it cost more than running it."""
    now = bindparam("claim_now", type_=Job.__table__.c.run_at.type)
    due = _due(now) & (Job.priority <= int(Priority.URGENT)) if urgent_only else _due(now)
    chosen = (select(Job.id).where(due).order_by(Job.priority, Job.run_at, Job.id)
              .limit(bindparam("claim_limit")))
    if postgres:
        # The classic PostgreSQL queue: lock the chosen rows, skipping those another worker holds.
        chosen = chosen.with_for_update(skip_locked=True)
    # On SQLite, which runs one writer at a time, the single UPDATE over the chosen ids is atomic as it is.
    return update(Job).where(Job.id.in_(chosen.scalar_subquery())).values(
        state=JobState.RUNNING, locked_by=bindparam("claim_owner"), locked_until=bindparam("claim_until"),
        attempts=Job.attempts + 1).returning(Job).execution_options(synchronize_session=False)


async def claim(session: AsyncSession, owner: str, limit: int = 10, now: datetime | None = None,
                lock: timedelta = LOCK_DURATION, urgent_only: bool = False) -> list[Job]:
    """Claims up to `limit` due jobs for `owner` for `lock` and commits the claim: expired locks are released,
    then one UPDATE … RETURNING chooses the due jobs, marks them ours and returns them. `urgent_only`: only
    jobs of priority URGENT (for the worker's batch slot kept for them)."""
    now = now or utcnow()
    params = {"claim_now": now, "claim_limit": limit, "claim_owner": owner, "claim_until": now + lock}
    postgres = is_postgres(session.bind)
    await session.execute(_rescue_statement(postgres), {"claim_now": now})
    claimed = (await session.scalars(_claim_statement(postgres, urgent_only), params)).all()
    await session.commit()
    return sorted(claimed, key=lambda job: job.id)


async def renew(session: AsyncSession, owner: str, job_ids: list[int], until: datetime) -> int:
    """The heartbeat: extends the locks `owner` still holds on `job_ids` (how many it still held)."""
    if not job_ids:
        return 0
    result = await session.execute(update(Job).where(Job.id.in_(job_ids), Job.locked_by == owner,
                                                     Job.state == JobState.RUNNING)
                                   .values(locked_until=until).execution_options(synchronize_session=False))
    return result.rowcount


async def finish_done(session: AsyncSession, owner: str, job_ids: list[int], now: datetime | None = None) -> None:
    """Marks jobs done in one statement — only those still ours and running (a repeat is harmless)."""
    if job_ids:
        await session.execute(update(Job).where(Job.id.in_(job_ids), Job.locked_by == owner,
                                                Job.state == JobState.RUNNING)
                              .values(state=JobState.DONE, finished_at=now or utcnow(), locked_by=None,
                                      locked_until=None, last_error=None).execution_options(synchronize_session=False))


async def schedule_once(session: AsyncSession, kind: str, run_at: datetime, except_job: int | None = None) -> bool:
    """Enqueues the next run of a periodic job unless one is pending already (`except_job`: the running one,
    which schedules its successor). Several processes starting at once never double a chain."""
    pending = (await session.scalars(select(Job.id).where(
        Job.kind == kind, Job.state.in_((JobState.QUEUED, JobState.RUNNING))))).all()
    if any(job_id != except_job for job_id in pending):
        return False
    await enqueue(session, kind, {}, run_at=run_at, max_attempts=3)
    return True


def backoff(attempts: int) -> timedelta:
    """Mastodon's retry curve: roughly attempts⁴ + 15 seconds."""
    return timedelta(seconds=attempts ** 4 + 15)


async def finish(session: AsyncSession, job: Job, owner: str, *, error: str | None = None,
                 retry: bool = True, now: datetime | None = None, retry_at: datetime | None = None,
                 deferred: bool = False) -> None:
    """Marks a claimed job done, or schedules its retry, or fails it for good — only if still ours.

    `deferred` puts the job back without counting the attempt (it waited for another job, it did not fail)."""
    now = now or utcnow()
    fresh = await session.get(Job, job.id, populate_existing=True)
    if fresh is None or fresh.locked_by != owner or fresh.state != JobState.RUNNING:
        return  # someone else recovered it after our lock expired; their run counts
    fresh.locked_by = None
    fresh.locked_until = None
    if deferred:
        fresh.state, fresh.run_at, fresh.attempts = JobState.QUEUED, retry_at or now, fresh.attempts - 1
    elif error is None:
        fresh.state, fresh.finished_at, fresh.last_error = JobState.DONE, now, None
    elif retry and fresh.attempts < fresh.max_attempts:
        fresh.state, fresh.last_error = JobState.QUEUED, error
        fresh.run_at = max(retry_at or now, now + backoff(fresh.attempts))
    else:
        fresh.state, fresh.finished_at, fresh.last_error = JobState.FAILED, now, error


async def finish_many(session: AsyncSession, owner: str, results: list[tuple[Job, JobOutcome]],
                      now: datetime | None = None) -> None:
    """Records the outcomes of a batch: the many successes in one statement, the rest one by one."""
    now = now or utcnow()
    await finish_done(session, owner, [job.id for job, outcome in results if outcome.status is JobStatus.DONE], now)
    for job, outcome in results:
        if outcome.status is not JobStatus.DONE:
            await finish(session, job, owner, error=None if outcome.status is JobStatus.DEFER else outcome.code,
                         retry=outcome.status is JobStatus.RETRY,
                         retry_at=outcome.retry_at, deferred=outcome.status is JobStatus.DEFER, now=now)


async def hurry_post(session: AsyncSession, post_id: int, priority: Priority = Priority.URGENT) -> int:
    """Moves the queued jobs of a post (its fan-out, platform sends, pings) ahead of routine work; the
    fan-out hands its priority on to the deliveries it creates."""
    result = await session.execute(
        update(Job).where(Job.post_id == post_id, Job.state == JobState.QUEUED)
        .values(priority=int(priority)).execution_options(synchronize_session=False))
    return result.rowcount


async def cancel_for_post(session: AsyncSession, post_id: int) -> int:
    result = await session.execute(
        update(Job).where(Job.post_id == post_id, Job.state == JobState.QUEUED)
        .values(state=JobState.CANCELLED, finished_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount
