"""The durable job queue: due jobs run once, retries back off, dead workers' jobs are recovered,
and several workers share the queue without running a job twice."""

from __future__ import annotations

import asyncio
import enum
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bridge.queue import jobs
from bridge.store.db import create_engine, create_sessionmaker, utcnow
from bridge.store.models import Job, JobState
from bridge.queue.worker import JobOutcome, JobStatus, Worker, WorkerContext


class ProbeReason(enum.StrEnum):
    REMOTE_UNAVAILABLE = "remote_unavailable"

    @property
    def description(self) -> str:
        return "the probe's remote side did not answer"


def recording_handler(seen: list, status: JobStatus = JobStatus.DONE, reason: ProbeReason | None = None):
    async def handle(ctx, session, job):
        seen.append(job.payload["n"])
        await asyncio.sleep(0)  # let other workers interleave
        return JobOutcome(status, reason)
    return handle


async def test_due_jobs_run_once_and_future_jobs_wait(config, booted, sessions_only):
    async with sessions_only.begin() as s:
        await jobs.enqueue(s, "probe", {"n": 1})
        await jobs.enqueue(s, "probe", {"n": 2}, run_at=utcnow() + timedelta(hours=1))
    seen: list = []
    worker = Worker(WorkerContext(config, sessions_only), {"probe": recording_handler(seen)})
    assert await worker.run_until_idle() == 1
    assert seen == [1]
    async with sessions_only() as s:
        states = {j.payload["n"]: j.state for j in (await s.scalars(select(Job))).all()}
    assert states == {1: JobState.DONE, 2: JobState.QUEUED}


async def test_failures_retry_with_backoff_then_fail_for_good(config, booted, sessions_only):
    async with sessions_only.begin() as s:
        job = await jobs.enqueue(s, "probe", {"n": 1}, max_attempts=2)
    seen: list = []
    worker = Worker(WorkerContext(config, sessions_only),
                    {"probe": recording_handler(seen, JobStatus.RETRY, ProbeReason.REMOTE_UNAVAILABLE)})
    before = utcnow()
    await worker.run_until_idle()
    async with sessions_only() as s:
        row = await s.get(Job, job.id)
    assert row.state == JobState.QUEUED and row.attempts == 1 and row.last_error == "remote_unavailable"
    assert row.run_at >= before + jobs.backoff(1)
    async with sessions_only.begin() as s:
        (await s.get(Job, job.id)).run_at = utcnow() - timedelta(seconds=1)
    await worker.run_until_idle()
    async with sessions_only() as s:
        row = await s.get(Job, job.id)
    assert row.state == JobState.FAILED and row.attempts == 2 and seen == [1, 1]


async def test_a_crashing_handler_is_recorded_and_logged_without_its_message(config, booted, sessions_only, caplog):
    async def crash(ctx, session, job):
        raise RuntimeError("secret payload text")
    async with sessions_only.begin() as s:
        job = await jobs.enqueue(s, "boom", {}, max_attempts=1)
        unknown = await jobs.enqueue(s, "no_such_kind", {})
    with caplog.at_level(logging.DEBUG, logger="stadtbote.worker"):
        await Worker(WorkerContext(config, sessions_only), {"boom": crash}).run_until_idle()
    assert "RuntimeError" in caplog.text and "secret payload text" not in caplog.text  # the class, no message
    assert all(record.exc_info is None for record in caplog.records)  # nor a traceback quoting it
    async with sessions_only() as s:
        row, other = await s.get(Job, job.id), await s.get(Job, unknown.id)
    assert row.state == JobState.FAILED and row.last_error == "handler_crashed:RuntimeError"
    assert other.state == JobState.FAILED and other.last_error == "unknown_job_kind"


def test_a_job_reason_is_a_described_enum_member_never_a_bare_string():
    assert JobOutcome(JobStatus.RETRY, ProbeReason.REMOTE_UNAVAILABLE, detail="503").code == "remote_unavailable:503"
    with pytest.raises(TypeError):
        JobOutcome(JobStatus.DONE, "free text")
    with pytest.raises(TypeError):
        JobOutcome(JobStatus.DONE, JobStatus.DONE)  # a StrEnum, but without a description


async def test_jobs_of_a_dead_worker_are_recovered_after_the_lock_expires(config, booted, sessions_only):
    async with sessions_only.begin() as s:
        job = await jobs.enqueue(s, "probe", {"n": 7})
    async with sessions_only() as s:
        claimed = await jobs.claim(s, "dead-worker")
    assert [j.id for j in claimed] == [job.id]
    seen: list = []
    worker = Worker(WorkerContext(config, sessions_only), {"probe": recording_handler(seen)})
    assert await worker.run_until_idle() == 0  # still locked by the dead worker
    async with sessions_only.begin() as s:
        (await s.get(Job, job.id)).locked_until = utcnow() - timedelta(seconds=1)
    assert await worker.run_until_idle() == 1
    async with sessions_only() as s:
        row = await s.get(Job, job.id)
    assert seen == [7] and row.state == JobState.DONE and row.attempts == 2
    # The dead worker waking up later must not overwrite the outcome.
    async with sessions_only.begin() as s:
        await jobs.finish(s, claimed[0], "dead-worker", error="late")
    async with sessions_only() as s:
        assert (await s.get(Job, job.id)).state == JobState.DONE


async def test_several_workers_share_the_queue_without_doing_a_job_twice(config, booted):
    engines = [create_engine(config.database.url) for _ in range(3)]
    makers = [create_sessionmaker(e) for e in engines]
    async with makers[0].begin() as s:
        for n in range(60):
            await jobs.enqueue(s, "probe", {"n": n})
    seen: list = []
    workers = [Worker(WorkerContext(config, m), {"probe": recording_handler(seen)}, batch=5) for m in makers]
    await asyncio.gather(*(w.run_until_idle() for w in workers))
    for e in engines:
        await e.dispose()
    assert sorted(seen) == list(range(60))


async def test_cancel_for_post_cancels_only_queued_jobs(config, booted, sessions_only):
    async with sessions_only.begin() as s:
        queued = await jobs.enqueue(s, "probe", {"n": 1})
        done = await jobs.enqueue(s, "probe", {"n": 2})
        done.state = JobState.DONE
    async with sessions_only.begin() as s:
        assert await jobs.cancel_for_post(s, 12345) == 0
    async with sessions_only() as s:
        assert (await s.get(Job, queued.id)).state == JobState.QUEUED


async def test_jobs_holding_the_same_named_lock_never_overlap(config, booted, sessions_only):
    trace: list[str] = []

    async def careful(ctx, session, job):
        async with ctx.lock(f"platform:{job.payload['platform']}"):
            trace.append(f"in:{job.payload['n']}")
            await asyncio.sleep(0.01)
            trace.append(f"out:{job.payload['n']}")
        return JobOutcome(JobStatus.DONE)

    async with sessions_only.begin() as s:
        for n in range(4):
            await jobs.enqueue(s, "careful", {"n": n, "platform": "bsky"})
    await Worker(WorkerContext(config, sessions_only), {"careful": careful}).run_until_idle()
    assert len(trace) == 8
    assert all(trace[i].startswith("in:") and trace[i + 1] == "out:" + trace[i][3:] for i in range(0, 8, 2))


async def test_a_working_worker_renews_its_claim_and_a_dead_ones_claim_expires(config, booted):
    """With a lock of 0.4 s: a job that runs for 1.2 s stays with its worker (the heartbeat renews the
    claim), so a second worker never runs it twice; a claim nobody renews is taken over once it expires."""
    engines = [create_engine(config.database.url) for _ in range(2)]
    first, second = (create_sessionmaker(e) for e in engines)
    lock = timedelta(seconds=0.4)
    seen: list = []

    async def slow(ctx, session, job):
        seen.append(job.payload["n"])
        await asyncio.sleep(1.2)
        return JobOutcome(JobStatus.DONE)

    async with first.begin() as s:
        job = await jobs.enqueue(s, "slow", {"n": 1})
    working = Worker(WorkerContext(config, first), {"slow": slow}, lock=lock)
    other = Worker(WorkerContext(config, second), {"slow": slow}, lock=lock, poll_seconds=0.05)
    running = asyncio.create_task(working.run_until_idle())
    await asyncio.sleep(0.1)
    poller = asyncio.create_task(other.run_forever())
    await running
    poller.cancel()
    await asyncio.gather(poller, return_exceptions=True)
    async with first() as s:
        row = await s.get(Job, job.id)
    assert seen == [1] and row.state == JobState.DONE and row.attempts == 1

    async with first.begin() as s:
        orphan = await jobs.enqueue(s, "slow", {"n": 2})
    async with first() as s:
        assert [j.id for j in await jobs.claim(s, "killed-worker", lock=lock)] == [orphan.id]
    taken_over = asyncio.get_running_loop().time()
    poller = asyncio.create_task(other.run_forever())
    while seen != [1, 2]:
        await asyncio.sleep(0.02)
    assert asyncio.get_running_loop().time() - taken_over < lock.total_seconds() + 0.5
    poller.cancel()
    await asyncio.gather(poller, return_exceptions=True)
    for e in engines:
        await e.dispose()
