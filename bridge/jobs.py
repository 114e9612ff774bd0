"""The durable job table: enqueue, claim, finish. The worker loop lives in `bridge.worker`.

Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of workers share the queue and no job
runs twice; on SQLite (one writer at a time) a compare-and-set UPDATE does the same job.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.config import Config
from bridge.db import is_postgres, utcnow
from bridge.federation import Federation
from bridge.models import Job, JobState

LOCK_DURATION = timedelta(minutes=5)


class JobStatus(enum.StrEnum):
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"
    DEFER = "defer"  # not yet: another job must run first; no attempt is counted


@dataclass(frozen=True)
class JobOutcome:
    status: JobStatus
    reason: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class WorkerContext:
    config: Config
    sessions: async_sessionmaker[AsyncSession]
    federation: Federation | None = None  # None only in tests that run no federation jobs


Handler = Callable[[WorkerContext, AsyncSession, Job], Awaitable[JobOutcome]]


async def enqueue(session: AsyncSession, kind: str, payload: dict | None = None, *,
                  run_at: datetime | None = None, post_id: int | None = None, max_attempts: int = 8,
                  ordering_key: str | None = None) -> Job:
    job = Job(kind=kind, payload=payload or {}, run_at=run_at or utcnow(), post_id=post_id,
              state=JobState.QUEUED, max_attempts=max_attempts, ordering_key=ordering_key)
    session.add(job)
    await session.flush()
    return job


def _due(now: datetime):
    # A running job whose lock expired belonged to a worker that died: it is due again.
    # A job waits while an earlier job with its ordering key is unfinished (Create before Update).
    earlier = aliased(Job)
    blocked = exists().where(earlier.ordering_key == Job.ordering_key, earlier.id < Job.id,
                             earlier.state.in_((JobState.QUEUED, JobState.RUNNING)))
    return or_(
        (Job.state == JobState.QUEUED) & (Job.run_at <= now),
        (Job.state == JobState.RUNNING) & (Job.locked_until < now),
    ) & or_(Job.ordering_key.is_(None), ~blocked)


async def claim(session: AsyncSession, owner: str, limit: int = 10, now: datetime | None = None) -> list[Job]:
    """Claims up to `limit` due jobs for `owner` and commits the claim."""
    now = now or utcnow()
    query = select(Job).where(_due(now)).order_by(Job.run_at, Job.id).limit(limit)
    if is_postgres(session.bind):
        query = query.with_for_update(skip_locked=True)
        jobs = list((await session.scalars(query)).all())
        for job in jobs:
            _lock(job, owner, now)
        await session.commit()
        return jobs
    claimed = []
    for job_id in (await session.scalars(query.with_only_columns(Job.id))).all():
        result = await session.execute(
            update(Job).where(Job.id == job_id, _due(now)).values(
                state=JobState.RUNNING, locked_by=owner, locked_until=now + LOCK_DURATION,
                attempts=Job.attempts + 1).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append(job_id)
    await session.commit()
    return list((await session.scalars(select(Job).where(Job.id.in_(claimed)).order_by(Job.id))).all())


def _lock(job: Job, owner: str, now: datetime) -> None:
    job.state = JobState.RUNNING
    job.locked_by = owner
    job.locked_until = now + LOCK_DURATION
    job.attempts += 1


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


async def cancel_for_post(session: AsyncSession, post_id: int) -> int:
    result = await session.execute(
        update(Job).where(Job.post_id == post_id, Job.state == JobState.QUEUED)
        .values(state=JobState.CANCELLED, finished_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount
