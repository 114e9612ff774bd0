"""The sign-in security log: who tried to sign in from which address, for detecting attacks.

A client address is personal data (CJEU C-582/14 Breyer), so it is kept in full for at most a few days
and then truncated as anonip does — IPv4 to a /20, IPv6 to a /44 — and the rows go after the security
log's own retention (BSI MST PD's example: 90 days). The audit log never sees an address.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models_privacy import SecurityEvent

IPV4_PREFIX, IPV6_PREFIX = 20, 44


def truncate_address(address: str | None) -> str | None:
    """"203.0.113.77" → "203.0.112.0/20"; anything that is not an IP address is dropped."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def full_address(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None


def log_signin(session: AsyncSession, kind: str, address: str | None, user_ref: str | None,
               now: datetime | None = None) -> None:
    """Added to the caller's transaction (the sign-in's own)."""
    session.add(SecurityEvent(at=now or datetime.now(timezone.utc), kind=kind[:32], user_ref=user_ref,
                              address=full_address(address), truncated=False))


async def truncate_before(session: AsyncSession, cutoff: datetime) -> int:
    """Truncate the addresses of events older than `cutoff`; returns how many rows changed."""
    rows = (await session.scalars(select(SecurityEvent).where(SecurityEvent.at < cutoff,
                                                              SecurityEvent.truncated.is_(False)))).all()
    for row in rows:
        row.address, row.truncated = truncate_address(row.address), True
    await session.flush()
    return len(rows)


async def forget_before(session: AsyncSession, cutoff: datetime) -> int:
    return (await session.execute(delete(SecurityEvent).where(SecurityEvent.at < cutoff))).rowcount


async def recent_events(session: AsyncSession, limit: int = 100) -> list[SecurityEvent]:
    return list((await session.scalars(select(SecurityEvent).order_by(SecurityEvent.at.desc())
                                       .limit(limit))).all())
