"""Delivery-host health under concurrency: failures to one new host, recorded at once, all count."""

from __future__ import annotations

import asyncio

from bridge.store.db import utcnow
from bridge.delivery.hosts import BREAKER_THRESHOLD, record_failure, record_success
from bridge.store.models import DeliveryHost


async def test_concurrent_failures_to_a_new_host_all_count_and_none_breaks(sessions_only):
    now = utcnow()
    started = asyncio.Event()

    async def fail_once() -> None:
        async with sessions_only.begin() as session:
            await started.wait()  # all read "no row yet" before any of them writes
            await record_failure(session, "new.example", now)

    failing = [asyncio.create_task(fail_once()) for _ in range(BREAKER_THRESHOLD)]
    await asyncio.sleep(0)
    started.set()
    await asyncio.gather(*failing)  # before the fix: IntegrityError on the primary key
    async with sessions_only() as session:
        row = await session.get(DeliveryHost, "new.example")
    assert row.consecutive_failures == BREAKER_THRESHOLD
    assert row.failure_days == [now.date().isoformat()]
    assert row.open_until is not None  # the tenth failure opened the circuit


async def test_a_success_clears_what_the_failures_recorded(sessions_only):
    now = utcnow()
    for _ in range(2):
        async with sessions_only.begin() as session:
            await record_failure(session, "flaky.example", now)
    async with sessions_only.begin() as session:
        await record_success(session, "flaky.example", now)
    async with sessions_only() as session:
        row = await session.get(DeliveryHost, "flaky.example")
    assert (row.consecutive_failures, row.failure_days, row.last_success_at is not None) == (0, [], True)
