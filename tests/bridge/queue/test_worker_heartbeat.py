"""A running worker keeps its heartbeat row fresh and removes it when it stops cleanly."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bridge.app import WORKER
from bridge.appkeys import SESSIONS
from bridge.queue.worker import Worker
from bridge.store.models import WorkerHeartbeat


async def _rows(client) -> list[WorkerHeartbeat]:
    async with client.app[SESSIONS]() as session:
        return list((await session.scalars(select(WorkerHeartbeat))).all())


async def test_a_running_worker_beats_and_a_stopped_one_leaves(client):
    standard = client.app[WORKER]
    # The standard worker's handlers, with a short claim so that the beat comes every 0.1 s.
    worker = Worker(standard.ctx, standard.handlers, batch_handlers=standard.batch_handlers,
                    lock=timedelta(seconds=0.4), poll_seconds=0.05)
    task = asyncio.create_task(worker.run_forever())
    try:
        for _ in range(100):
            rows = await _rows(client)
            if rows:
                break
            await asyncio.sleep(0.05)
        [row] = rows
        assert row.owner == worker.owner
        first = row.beat_at
        await asyncio.sleep(0.3)
        [row] = await _rows(client)
        assert row.beat_at > first, "the beat is renewed while the worker runs"
        assert (await client.get("/readyz")).status == 200
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await _rows(client) == []
    assert (await client.get("/readyz")).status == 503


async def test_run_until_idle_leaves_no_heartbeat(client):
    await client.app[WORKER].run_until_idle()
    assert await _rows(client) == []
