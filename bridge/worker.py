"""The job worker: claims due jobs, runs the handler for their kind, records the outcome.

Handlers return a `JobOutcome`; an exception in a handler is a bug, recorded as `handler_crashed` with the
exception class only (never its message, which might quote a payload) and retried.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge import jobs, posts
from bridge.config import Config
from bridge.federation import Federation
from bridge.models import Job

log = logging.getLogger("stadtbote.worker")


class JobStatus(enum.StrEnum):
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class JobOutcome:
    status: JobStatus
    reason: str | None = None


@dataclass(frozen=True)
class WorkerContext:
    config: Config
    sessions: async_sessionmaker[AsyncSession]
    federation: Federation | None = None  # None only in tests that run no federation jobs


Handler = Callable[[WorkerContext, AsyncSession, Job], Awaitable[JobOutcome]]


async def handle_publish(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    reason = await posts.publish_scheduled(session, int(job.payload["post_id"]),
                                           websub_hub=ctx.config.feeds.websub_hub)
    # A post deleted or edited back to a draft before its time is not an error: nothing to publish.
    return JobOutcome(JobStatus.DONE, None if reason is posts.PostReason.OK else str(reason))


def default_handlers() -> dict[str, Handler]:
    return {posts.PUBLISH_JOB: handle_publish}


class Worker:
    def __init__(self, ctx: WorkerContext, handlers: dict[str, Handler] | None = None,
                 owner: str | None = None, poll_seconds: float = 1.0, batch: int = 10):
        self.ctx = ctx
        self.handlers = handlers if handlers is not None else default_handlers()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.wake = asyncio.Event()

    async def run_once(self) -> int:
        """Claims and runs one batch; returns how many jobs ran."""
        async with self.ctx.sessions() as session:
            claimed = await jobs.claim(session, self.owner, self.batch)
        for job in claimed:
            await self._run(job)
        return len(claimed)

    async def run_until_idle(self, max_rounds: int = 100) -> int:
        total = 0
        for _ in range(max_rounds):
            ran = await self.run_once()
            total += ran
            if not ran:
                break
        return total

    async def run_forever(self) -> None:
        while True:
            ran = await self.run_once()
            if ran:
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass

    async def _run(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        async with self.ctx.sessions() as session:
            if handler is None:
                outcome = JobOutcome(JobStatus.FAILED, "unknown_job_kind")
            else:
                try:
                    outcome = await handler(self.ctx, session, job)
                except Exception as exc:  # a handler bug must not stop the worker; reason, no message
                    await session.rollback()
                    log.exception("job %s (%s) crashed", job.id, job.kind)
                    outcome = JobOutcome(JobStatus.RETRY, f"handler_crashed:{exc.__class__.__name__}")
            error = None if outcome.status is JobStatus.DONE else (outcome.reason or "unspecified")
            await jobs.finish(session, job, self.owner, error=error, retry=outcome.status is JobStatus.RETRY)
            await session.commit()
        log.info("job %s kind=%s status=%s reason=%s", job.id, job.kind, outcome.status, outcome.reason)
