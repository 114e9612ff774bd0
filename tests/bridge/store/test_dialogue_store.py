"""The dialogue desk's figures and their retention, on a real database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bridge.store.db import utcnow
from bridge.store.dialogue import ReplyHandling, answer_times, percentile, purge_handling


def test_percentiles_are_nearest_rank():
    assert percentile([], 0.5) is None
    assert percentile([30.0], 0.9) == 30.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0 and percentile([1.0, 2.0, 3.0, 4.0], 0.9) == 4.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0


async def test_handling_rows_of_erased_replies_count_for_30_days_then_go(sessions_only):
    now = utcnow()
    async with sessions_only.begin() as s:  # replies 9001 and 9002 were erased meanwhile
        s.add(ReplyHandling(reply_id=9001, actor_name="stadt", state="answered", received_at=now - timedelta(days=40),
                            first_answer_at=now - timedelta(days=40) + timedelta(hours=2), updated_at=now))
        s.add(ReplyHandling(reply_id=9002, actor_name="stadt", state="answered", received_at=now - timedelta(days=2),
                            first_answer_at=now - timedelta(days=2) + timedelta(hours=3), updated_at=now))
    async with sessions_only() as s:
        times = await answer_times(s, now - timedelta(days=30))
    assert times["stadt"].answered == 1 and times["stadt"].median == 3 * 3600 and times["stadt"].waiting == 0
    async with sessions_only.begin() as s:
        assert await purge_handling(s, now) == 1
    async with sessions_only() as s:
        assert [h.reply_id for h in (await s.scalars(select(ReplyHandling))).all()] == [9002]
