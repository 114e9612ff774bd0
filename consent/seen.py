"""Inbound activities already applied, by fingerprint, so a redelivered activity has one effect."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.fingerprints import Kind, fingerprint
from consent.models import InboundSeen
from consent.vault import Vault


async def was_seen(session: AsyncSession, vault: Vault, activity_id: str) -> bool:
    found = await session.scalar(select(InboundSeen.id_hash).where(
        InboundSeen.id_hash == fingerprint(vault, Kind.ACTIVITY, activity_id)))
    return found is not None


async def seen_among(session: AsyncSession, vault: Vault, activity_ids: Iterable[str]) -> set[str]:
    """Those of `activity_ids` applied before: one query for a whole inbox batch."""
    by_hash = {fingerprint(vault, Kind.ACTIVITY, a): a for a in activity_ids}
    if not by_hash:
        return set()
    found = await session.scalars(select(InboundSeen.id_hash).where(InboundSeen.id_hash.in_(by_hash)))
    return {by_hash[h] for h in found}


def mark_seen(session: AsyncSession, vault: Vault, activity_id: str, now: datetime | None = None) -> None:
    """Added to the caller's transaction; a concurrent twin fails on the primary key at commit."""
    session.add(InboundSeen(id_hash=fingerprint(vault, Kind.ACTIVITY, activity_id),
                            seen_at=now or datetime.now(timezone.utc)))


async def mark_seen_many(session: AsyncSession, vault: Vault, activity_ids: Iterable[str], now: datetime) -> None:
    """`mark_seen` for a batch, as one multi-row INSERT."""
    rows = [{"id_hash": fingerprint(vault, Kind.ACTIVITY, a), "seen_at": now} for a in activity_ids]
    if rows:
        await session.execute(insert(InboundSeen.__table__), rows)  # Core: no ORM work per row


async def forget_seen_before(session: AsyncSession, cutoff: datetime) -> int:
    """Senders retry for about three days; older marks only take space (for the retention run)."""
    return (await session.execute(delete(InboundSeen).where(InboundSeen.seen_at < cutoff))).rowcount
