"""The priority lane: a warning's fan-out, its deliveries and its platform sends are claimed before routine jobs
queued earlier — on SQLite and PostgreSQL, through the claim's index order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import insert, select

from bridge.queue import jobs
from bridge.queue.worker import JobOutcome, JobStatus, Worker, WorkerContext
from bridge.store.db import utcnow
from bridge.store.models import Actor, Job, JobState, Post, PostState


async def test_urgent_jobs_are_claimed_before_a_routine_backlog(config, booted, sessions_only):
    now = utcnow()
    async with sessions_only.begin() as s:  # a routine fan-out's deliveries, queued a minute ago
        await s.execute(insert(Job.__table__), [
            {"kind": "deliver", "state": JobState.QUEUED, "run_at": now - timedelta(minutes=1), "attempts": 0,
             "max_attempts": 16, "created_at": now, "payload": {"n": n}, "priority": jobs.Priority.NORMAL}
            for n in range(300)])
        urgent = await jobs.enqueue(s, "fanout", {"n": "warning"}, priority=jobs.Priority.URGENT)
        later = await jobs.enqueue(s, "fanout", {"n": "later"}, run_at=now + timedelta(hours=1),
                                   priority=jobs.Priority.URGENT)
    async with sessions_only() as s:
        claimed = await jobs.claim(s, "probe", 5)
    assert urgent.id in [j.id for j in claimed] and later.id not in [j.id for j in claimed]
    assert [j.payload["n"] for j in claimed if j.id != urgent.id] == [0, 1, 2, 3]  # then the oldest routine ones


async def test_hurrying_a_post_moves_only_its_queued_jobs(config, booted, sessions_only):
    async with sessions_only.begin() as s:
        actor_id = await s.scalar(select(Actor.id).where(Actor.name == "stadt"))
        post = Post(actor_id=actor_id, state=PostState.PUBLISHED, text="Warnung", language="de", mirrors=[],
                    published_at=utcnow())
        s.add(post)
        await s.flush()
        queued = await jobs.enqueue(s, "fanout", {"n": "fanout"}, post_id=post.id)
        running = await jobs.enqueue(s, "platform_send", {"n": "running"}, post_id=post.id)
        running.state = JobState.RUNNING
        other = await jobs.enqueue(s, "fanout", {"n": "other"})
        assert await jobs.hurry_post(s, post.id) == 1
    async with sessions_only() as s:
        rows = {j.payload["n"]: j.priority for j in (await s.scalars(select(Job))).all()}
    assert rows == {"fanout": jobs.Priority.URGENT, "running": jobs.Priority.NORMAL, "other": jobs.Priority.NORMAL}
    assert queued.id != other.id


async def test_an_urgent_job_runs_while_every_batch_slot_holds_routine_work(config, booted, sessions_only):
    """The worker keeps one batch slot for urgent jobs: a warning does not wait for slow routine batches."""
    release, urgent_ran = asyncio.Event(), asyncio.Event()

    async def slow(ctx, session, job):
        await release.wait()  # a routine delivery to a server that takes its time
        return JobOutcome(JobStatus.DONE)

    async def urgent(ctx, session, job):
        urgent_ran.set()
        return JobOutcome(JobStatus.DONE)

    async with sessions_only.begin() as s:
        for n in range(4):
            await jobs.enqueue(s, "slow", {"n": n})
    worker = Worker(WorkerContext(config, sessions_only), {"slow": slow, "urgent": urgent}, batch=1,
                    poll_seconds=0.05)
    running = asyncio.create_task(worker.run_forever(batches_in_flight=2))
    try:
        await asyncio.sleep(0.5)  # both slots hold a slow job now
        async with sessions_only.begin() as s:
            await jobs.enqueue(s, "urgent", {"n": "warning"}, priority=jobs.Priority.URGENT)
            await jobs.enqueue(s, "slow", {"n": "routine"})
        await asyncio.wait_for(urgent_ran.wait(), timeout=10)
        async with sessions_only() as s:
            states = {j.payload["n"]: j.state for j in (await s.scalars(select(Job))).all()}
        slow_running = [n for n, state in states.items() if isinstance(n, int) and state == JobState.RUNNING]
        assert states["routine"] == JobState.QUEUED and len(slow_running) == 2  # both slots still held
    finally:
        release.set()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_the_urgent_claim_takes_only_urgent_jobs(config, booted, sessions_only):
    async with sessions_only.begin() as s:
        await jobs.enqueue(s, "deliver", {"n": "routine"})
        await jobs.enqueue(s, "deliver", {"n": "warning"}, priority=jobs.Priority.URGENT)
    async with sessions_only() as s:
        assert [j.payload["n"] for j in await jobs.claim(s, "probe", 10, urgent_only=True)] == ["warning"]
        assert await jobs.claim(s, "probe", 10, urgent_only=True) == []
