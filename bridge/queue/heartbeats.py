"""Workers' heartbeats: each running worker keeps one row with its last beat (`Worker` writes it beside the
renewal of its job claims); `GET /readyz` reads the newest. A worker that stops cleanly removes its row;
one that was killed leaves a row that simply grows old."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.db import utcnow
from bridge.store.models import WorkerHeartbeat


async def beat(session: AsyncSession, owner: str, now: datetime | None = None) -> None:
    """Records that `owner` is alive now (its row is created at the first beat)."""
    now = now or utcnow()
    result = await session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.owner == owner)
                                   .values(beat_at=now).execution_options(synchronize_session=False))
    if not result.rowcount:
        session.add(WorkerHeartbeat(owner=owner, started_at=now, beat_at=now))


async def remove(session: AsyncSession, owner: str) -> None:
    await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.owner == owner))

