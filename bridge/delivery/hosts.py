"""Health of receiving servers: a circuit breaker per host and Mastodon's rule that a host failing on
7 distinct days is unavailable until it answers again (any success or valid inbound request clears it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.db import upsert_dialect
from bridge.store.models import DeliveryHost

BREAKER_THRESHOLD = 10  # consecutive failures that open the circuit
BREAKER_PAUSE = timedelta(minutes=5)
UNAVAILABLE_DAYS = 7


async def _host(session: AsyncSession, host: str) -> DeliveryHost:
    """The host's row, created if need be and locked for this transaction. Deliveries to one host fail
    concurrently: a plain INSERT from two of them at once broke on the primary key."""
    dialect = upsert_dialect(session.bind)
    await session.execute(dialect.insert(DeliveryHost).values(host=host, consecutive_failures=0, failure_days=[])
                          .on_conflict_do_nothing(index_elements=["host"]))
    # FOR UPDATE (PostgreSQL): a second failure waits for the first one's commit instead of overwriting
    # its count; on SQLite the INSERT above already holds the database's one write lock.
    return await session.get_one(DeliveryHost, host, populate_existing=True, with_for_update=True)


async def host_health(session: AsyncSession, hosts: set[str]) -> dict[str, DeliveryHost]:
    """The health rows of these hosts (hosts that never failed have none)."""
    rows = await session.scalars(select(DeliveryHost).where(DeliveryHost.host.in_(hosts)))
    return {row.host: row for row in rows.all()}


async def unavailable_hosts(session: AsyncSession) -> set[str]:
    rows = await session.scalars(select(DeliveryHost.host).where(DeliveryHost.unavailable_since.is_not(None)))
    return set(rows.all())


async def record_success(session: AsyncSession, host: str, now: datetime) -> None:
    await record_successes(session, {host}, now)


async def record_successes(session: AsyncSession, hosts: Iterable[str], now: datetime) -> None:
    """A valid request from (or delivery to) these hosts clears their failures: one query for a batch."""
    for row in (await host_health(session, set(hosts))).values():
        if row.consecutive_failures == 0 and row.unavailable_since is None and row.failure_days == []:
            continue  # the common case writes nothing
        row.consecutive_failures, row.failure_days = 0, []
        row.open_until = row.unavailable_since = None
        row.last_success_at = now


async def record_failure(session: AsyncSession, host: str, now: datetime, counts: bool = True) -> None:
    """`counts` is False for final answers (a 4xx): the server is up, it just refused this one."""
    if not counts:
        return
    row = await _host(session, host)
    row.consecutive_failures += 1
    day = now.date().isoformat()
    if day not in row.failure_days:
        row.failure_days = [*row.failure_days, day]
    if row.consecutive_failures >= BREAKER_THRESHOLD:
        row.open_until = now + BREAKER_PAUSE
    if len(row.failure_days) >= UNAVAILABLE_DAYS and row.unavailable_since is None:
        row.unavailable_since = now


async def clear_host(session: AsyncSession, host: str, now: datetime) -> None:
    """A valid signed request from the host proves it is alive."""
    row = await session.get(DeliveryHost, host)
    if row is not None:
        row.consecutive_failures, row.failure_days = 0, []
        row.open_until = row.unavailable_since = None
        row.last_success_at = now
