"""Periodic jobs of the privacy side: the daily retention run and the signed audit checkpoint.

Each job re-enqueues its successor when it finishes; `ensure_privacy_jobs` starts the chains when a
worker starts (`bridge.handlers.start_chains`); several may start at once, and a pending job is never doubled.
"""

from __future__ import annotations

import enum
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.queue import jobs
from bridge.config.model import Config
from bridge.store.db import utcnow
from bridge.queue.context import JobOutcome, JobStatus, WorkerContext
from bridge.store.models import Job
from bridge.privacy.rights import run_retention, signer_for, vault_for
from consent.auditsigning import write_checkpoint

RETENTION_JOB = "privacy_retention"
CHECKPOINT_JOB = "audit_checkpoint"
SYSTEM = ("system", "system")


class PrivacyJobReason(enum.StrEnum):
    PURGED = "purged"  # with the number of records removed as detail
    CHECKPOINT_WRITTEN = "checkpoint_written"  # with the log's size as detail

    @property
    def description(self) -> str:
        return {PrivacyJobReason.PURGED: "the retention run removed what had reached its deadline",
                PrivacyJobReason.CHECKPOINT_WRITTEN: "a signed checkpoint of the audit log was written"}[self]


def next_retention_run(config: Config, now: datetime) -> datetime:
    """The next `[retention] run_at` in the instance's time zone, strictly after `now`."""
    hour, minute = (int(p) for p in config.retention.run_at.split(":"))
    local = now.astimezone(config.tz)
    candidate = datetime.combine(local.date(), time(hour, minute), tzinfo=config.tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour, minute), tzinfo=config.tz)
    return candidate


def next_checkpoint(config: Config, now: datetime) -> datetime:
    return now + timedelta(minutes=config.audit.checkpoint_interval_minutes)


async def ensure_privacy_jobs(session: AsyncSession, config: Config) -> list[str]:
    now, started = utcnow(), []
    if await jobs.schedule_once(session, RETENTION_JOB, next_retention_run(config, now)):
        started.append(RETENTION_JOB)
    if await jobs.schedule_once(session, CHECKPOINT_JOB, next_checkpoint(config, now)):
        started.append(CHECKPOINT_JOB)
    return started


async def handle_retention(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    vault = ctx.federation.vault if ctx.federation is not None else vault_for(ctx.config)
    counts = await run_retention(session, vault, ctx.config, SYSTEM)
    await jobs.schedule_once(session, RETENTION_JOB, next_retention_run(ctx.config, utcnow()), except_job=job.id)
    return JobOutcome(JobStatus.DONE, PrivacyJobReason.PURGED, detail=str(sum(counts.values())))


async def handle_checkpoint(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    checkpoint = await write_checkpoint(session, signer_for(ctx.config))
    await jobs.schedule_once(session, CHECKPOINT_JOB, next_checkpoint(ctx.config, utcnow()), except_job=job.id)
    return JobOutcome(JobStatus.DONE, PrivacyJobReason.CHECKPOINT_WRITTEN, detail=str(checkpoint.size))


def handlers() -> dict:
    return {RETENTION_JOB: handle_retention, CHECKPOINT_JOB: handle_checkpoint}
