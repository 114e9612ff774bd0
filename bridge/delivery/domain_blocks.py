"""Blocking and unblocking servers, and asking whether a host is blocked (a block covers subdomains,
as in Mastodon: blocking `example.social` also blocks `media.example.social`)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.blocks import DomainBlock

_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")


class BlockReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OTHER = "other"


class BlockResult(enum.StrEnum):
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    ALREADY_BLOCKED = "already_blocked"
    NOT_BLOCKED = "not_blocked"
    INVALID_DOMAIN = "invalid_domain"
    OWN_DOMAIN = "own_domain"

    @property
    def ok(self) -> bool:
        return self in (BlockResult.BLOCKED, BlockResult.UNBLOCKED)


@dataclass(frozen=True)
class Blocked:
    domain: str  # the block that matched (the host itself or a parent domain)
    reason: str


def normalize(domain: str) -> str | None:
    """A bare lower-case host name, or None (no scheme, path, port or wildcard accepted)."""
    try:
        value = domain.strip().lower().rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return value if _HOST.match(value) and "." in value else None


def _suffixes(host: str) -> list[str]:
    labels = host.lower().rstrip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


async def blocked(session: AsyncSession, host: str | None) -> Blocked | None:
    if not host:
        return None
    row = await session.scalar(select(DomainBlock).where(DomainBlock.domain.in_(_suffixes(host)))
                               .order_by(DomainBlock.domain).limit(1))
    return Blocked(row.domain, row.reason) if row is not None else None


async def blocked_hosts(session: AsyncSession, hosts: Iterable[str]) -> set[str]:
    """Those of `hosts` that a block covers: one query for a whole delivery batch."""
    wanted = {h for h in hosts if h}
    candidates = {s for h in wanted for s in _suffixes(h)}
    if not candidates:
        return set()
    found = set((await session.scalars(select(DomainBlock.domain).where(DomainBlock.domain.in_(candidates)))).all())
    return {h for h in wanted if any(s in found for s in _suffixes(h))}


async def block(session: AsyncSession, domain: str, reason: BlockReason, by: str, own_host: str,
                now: datetime) -> tuple[BlockResult, str | None]:
    name = normalize(domain)
    if name is None:
        return BlockResult.INVALID_DOMAIN, None
    own = own_host.lower().partition(":")[0]
    if own == name or own.endswith("." + name):
        return BlockResult.OWN_DOMAIN, name
    if await session.get(DomainBlock, name) is not None:
        return BlockResult.ALREADY_BLOCKED, name
    session.add(DomainBlock(domain=name, reason=str(reason), blocked_by=by, created_at=now))
    await session.flush()
    return BlockResult.BLOCKED, name


async def unblock(session: AsyncSession, domain: str) -> tuple[BlockResult, str | None]:
    name = normalize(domain)
    row = await session.get(DomainBlock, name) if name else None
    if row is None:
        return BlockResult.NOT_BLOCKED, name
    await session.delete(row)
    await session.flush()
    return BlockResult.UNBLOCKED, name


async def list_blocks(session: AsyncSession) -> list[DomainBlock]:
    return list((await session.scalars(select(DomainBlock).order_by(DomainBlock.domain))).all())
