"""The job worker: claims due jobs, runs the handler for their kind, records the outcome.

Handlers return a `JobOutcome`; an exception in a handler is a bug, recorded as `handler_crashed` with the
exception class only (never its message, which might quote a payload) and retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from bridge.queue import heartbeats, jobs
from bridge.queue.context import BatchHandler, Handler, JobOutcome, JobReason, JobStatus, Settled, WorkerContext
from bridge.store.db import utcnow
from bridge.store.models import Job

__all__ = ["Worker", "WorkerContext", "JobOutcome", "JobStatus", "Handler"]

log = logging.getLogger("stadtbote.worker")


class Worker:
    def __init__(self, ctx: WorkerContext, handlers: dict[str, Handler],
                 owner: str | None = None, poll_seconds: float = 1.0, batch: int = 200, concurrency: int = 16,
                 batch_handlers: dict[str, BatchHandler] | None = None, lock: timedelta = jobs.LOCK_DURATION,
                 on_start: Callable[[], Awaitable[object]] | None = None):
        """`handlers` come from the caller (the registry in `bridge.handlers`), so the queue imports no job.
        `lock`: how long a claim lasts unless renewed; the worker renews it every quarter of that.
        `on_start`: run once when `run_forever` begins (the caller's periodic chains)."""
        self.ctx = ctx
        self.handlers = handlers
        self.batch_handlers = batch_handlers or {}
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.poll_seconds = poll_seconds
        self.batch = batch
        # Deliveries wait on the network; running several at once keeps the CPU busy signing.
        self.limit = asyncio.Semaphore(concurrency)
        self.wake = asyncio.Event()
        self.lock_duration = lock
        self.held: set[int] = set()  # claimed and not yet finished: the jobs whose locks the heartbeat renews
        self.settled = Settled()
        self.on_start = on_start

    async def run_once(self) -> int:
        """Claims and runs one batch; returns how many jobs ran."""
        claimed = await self._claim()
        await self._run_claimed(claimed)
        return len(claimed)

    async def _claim(self, urgent_only: bool = False) -> list[Job]:
        async with self.ctx.sessions() as session:
            claimed = await jobs.claim(session, self.owner, self.batch, lock=self.lock_duration,
                                       urgent_only=urgent_only)
        self.held.update(job.id for job in claimed)
        return claimed

    @contextlib.asynccontextmanager
    async def _keeping(self, announce: bool = False):
        """While the worker runs: the heartbeat, and the early record of jobs done in running batches.
        `announce`: also keep this worker's row in the heartbeat table (a running worker, not a test's
        `run_until_idle`), removed again when it stops cleanly."""
        keeper = asyncio.create_task(self._keep(announce), name="stadtbote-worker-heartbeat")
        try:
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if announce:
                await self._leave()

    async def _keep(self, announce: bool) -> None:
        loop = asyncio.get_running_loop()
        beat = self.lock_duration.total_seconds() / 4
        renewed = loop.time()
        if announce:
            await self._announce()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.settled.changed.wait(), timeout=beat)
            try:
                await self._record_settled()
                if loop.time() - renewed >= beat:
                    renewed = loop.time()
                    await self._renew()
                    if announce:
                        await self._announce()
            except (SQLAlchemyError, OSError) as exc:  # the database is away for a moment: try at the next beat
                log.warning("worker heartbeat failed: %s", exc.__class__.__name__)
                await asyncio.sleep(beat)

    async def _record_settled(self) -> None:
        done = self.settled.take()
        if done:
            async with self.ctx.sessions.begin() as session:
                await jobs.finish_done(session, self.owner, done)
            self.held.difference_update(done)

    async def _renew(self) -> None:
        held = sorted(self.held)
        if held:
            async with self.ctx.sessions.begin() as session:
                await jobs.renew(session, self.owner, held, utcnow() + self.lock_duration)

    async def _announce(self) -> None:
        try:
            async with self.ctx.sessions.begin() as session:
                await heartbeats.beat(session, self.owner)
        except (SQLAlchemyError, OSError) as exc:  # readiness turns 503 after a minute of these; jobs go on
            log.warning("worker heartbeat not recorded: %s", exc.__class__.__name__)

    async def _leave(self) -> None:
        try:
            async with self.ctx.sessions.begin() as session:
                await heartbeats.remove(session, self.owner)
        except (SQLAlchemyError, OSError) as exc:  # the row ages out of readiness by itself
            log.warning("worker heartbeat not removed: %s", exc.__class__.__name__)

    async def _run_claimed(self, claimed: list[Job]) -> None:
        grouped: dict[str, list[Job]] = {}
        for job in claimed:
            if job.kind in self.batch_handlers:
                grouped.setdefault(job.kind, []).append(job)
        singles = [job for job in claimed if job.kind not in self.batch_handlers]
        await asyncio.gather(*(self._limited(job) for job in singles),
                             *(self._run_batch(kind, batch) for kind, batch in grouped.items()))

    async def _run_batch(self, kind: str, batch: list[Job]) -> None:
        try:
            outcomes = await self.batch_handlers[kind](self.ctx, batch, self.settled)
        except Exception as exc:  # a handler bug must not stop the worker; reason, no message
            log.error("batch of %d %s jobs crashed: %s", len(batch), kind, exc.__class__.__name__)
            outcomes = [crashed(exc)] * len(batch)
        async with self.ctx.sessions.begin() as session:
            await jobs.finish_many(session, self.owner, list(zip(batch, outcomes)))
        self.held.difference_update(job.id for job in batch)
        failed = sum(1 for o in outcomes if o.status is not JobStatus.DONE)
        log.log(logging.INFO if failed else logging.DEBUG, "batch of %d %s jobs, %d not done", len(batch), kind,
                failed)

    async def _limited(self, job: Job) -> None:
        async with self.limit:
            await self._run(job)

    async def run_until_idle(self, max_rounds: int = 100) -> int:
        total = 0
        async with self._keeping():
            for _ in range(max_rounds):
                ran = await self.run_once()
                total += ran
                if not ran:
                    break
        return total

    async def run_forever(self, batches_in_flight: int = 4) -> None:
        """Keeps claiming while earlier batches are still running, so a slow server holding up one
        batch (up to the client's timeout) does not hold up deliveries to everyone else."""
        if self.on_start is not None:
            try:
                await self.on_start()
            except (SQLAlchemyError, OSError) as exc:  # the chains start with the next worker; jobs run meanwhile
                log.error("starting the periodic jobs failed: %s", exc.__class__.__name__)
        running: set[asyncio.Task] = set()
        try:
            async with self._keeping(announce=True):
                await self._claim_and_run(running, batches_in_flight)
        finally:  # stopped: the batches end with it (their jobs go back to the queue when the locks expire)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _claim_and_run(self, running: set[asyncio.Task], batches_in_flight: int) -> None:
        """Up to `batches_in_flight` batches of any jobs, and one more of urgent jobs only: a warning's fan-out
        and deliveries need not wait until a routine batch (up to `batch` slow deliveries) ends."""
        while True:
            if len(running) <= batches_in_flight:
                claimed = await self._claim(urgent_only=len(running) == batches_in_flight)
                if claimed:
                    task = asyncio.create_task(self._run_claimed(claimed))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    continue
            await self._pause(running)

    async def _pause(self, running: set[asyncio.Task]) -> None:
        """Until new work may be due: a batch finished, someone woke us, or the poll interval passed."""
        self.wake.clear()
        waiting = [asyncio.ensure_future(self.wake.wait()), *running]
        done, _ = await asyncio.wait(waiting, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        if waiting[0] not in done:
            waiting[0].cancel()

    async def _run(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        async with self.ctx.sessions() as session:
            if handler is None:
                outcome = JobOutcome(JobStatus.FAILED, JobReason.UNKNOWN_JOB_KIND)
            else:
                try:
                    outcome = await handler(self.ctx, session, job)
                except Exception as exc:  # a handler bug must not stop the worker; reason, no message
                    await session.rollback()
                    log.error("job %s (%s) crashed: %s", job.id, job.kind, exc.__class__.__name__)
                    outcome = crashed(exc)
            error = None if outcome.status in (JobStatus.DONE, JobStatus.DEFER) else outcome.code
            await jobs.finish(session, job, self.owner, error=error, retry=outcome.status is JobStatus.RETRY,
                              retry_at=outcome.retry_at, deferred=outcome.status is JobStatus.DEFER)
            await session.commit()
        self.held.discard(job.id)
        level = logging.DEBUG if outcome.status is JobStatus.DONE else logging.INFO
        log.log(level, "job %s kind=%s status=%s reason=%s", job.id, job.kind, outcome.status, outcome.code)


def crashed(exc: Exception) -> JobOutcome:
    """A handler bug: retried, recorded with the exception's class only (its message may quote a payload)."""
    return JobOutcome(JobStatus.RETRY, JobReason.HANDLER_CRASHED, detail=exc.__class__.__name__)
