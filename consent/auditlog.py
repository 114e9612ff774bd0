"""Appending to the audit log: gap-free sequence numbers and RFC 9162 leaf hashes.

The first append of a transaction locks the single `audit_head` row (`SELECT … FOR UPDATE` on
PostgreSQL; on SQLite a no-op UPDATE takes the database write lock before the head is read) and keeps
its state in the session for the rest of that transaction, so a batch of appends costs one INSERT each.
Until the transaction ends, other appenders wait: that wait is what makes sequence numbers gap-free.
A rollback discards the entries and the head change together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consent.canonical import canonical_bytes
from consent.merkle import HASH_SIZE, CompactTree, leaf_hash
from consent.models import AuditEntry
from consent.models_privacy import HEAD_ID, AuditHead

_STATE_KEY = "stadtbote.audit_head"
LEAF_FIELDS = ("seq", "ts", "action", "actor_role", "actor_ref", "subject_ref", "outcome", "reason", "purpose",
               "legal_basis", "retention_class", "details")


@dataclass
class _HeadState:
    transaction: object  # the SessionTransaction the lock belongs to
    row: AuditHead
    tree: CompactTree


def timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds: the one text form of `created_at` inside a leaf."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def leaf_of(entry: AuditEntry) -> dict[str, Any]:
    """The canonical entry object an exported entry carries and its leaf hash commits to."""
    return _leaf({name: getattr(entry, name) for name in ("created_at", *LEAF_FIELDS) if name != "ts"})


def _leaf(columns: Mapping[str, Any]) -> dict[str, Any]:
    return {"seq": columns["seq"], "ts": timestamp(columns["created_at"]), "action": columns["action"],
            "actor_role": columns["actor_role"], "actor_ref": columns["actor_ref"],
            "subject_ref": columns["subject_ref"], "outcome": columns["outcome"], "reason": columns["reason"],
            "purpose": columns["purpose"], "legal_basis": columns["legal_basis"],
            "retention_class": columns["retention_class"], "details": dict(columns["details"] or {})}


def split_frontier(blob: bytes) -> list[bytes]:
    return [blob[i:i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


async def _locked_head(session: AsyncSession) -> _HeadState:
    transaction = session.sync_session.get_transaction()
    state: _HeadState | None = session.info.get(_STATE_KEY)
    if state is not None and transaction is not None and state.transaction is transaction:
        return state
    if session.bind.dialect.name == "postgresql":
        query = select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    else:
        # SQLite: a no-op UPDATE takes the write lock and reads the head in the same statement, so no other
        # writer can move the head between read and write (one statement: each costs four thread hops).
        query = (update(AuditHead).where(AuditHead.id == HEAD_ID).values(size=AuditHead.size).returning(AuditHead)
                 .execution_options(synchronize_session=False))
    row = await session.scalar(query.execution_options(populate_existing=True))
    if row is None:
        raise RuntimeError("audit_head row is missing: run `stadtbote db upgrade`")
    state = _HeadState(session.sync_session.get_transaction(), row,
                       CompactTree.from_state(row.size, split_frontier(row.frontier)))
    session.info[_STATE_KEY] = state
    return state


async def lock_head(session: AsyncSession) -> None:
    """Take the append lock now, before the transaction reads what it will decide on: on SQLite a read
    transaction that later wants to write fails if another writer committed in between."""
    await _locked_head(session)


async def append(session: AsyncSession, fields: Mapping[str, Any], created_at: datetime) -> AuditEntry:
    """Add one entry in the caller's transaction; `fields` are the AuditEntry columns but seq and hash."""
    state = await _locked_head(session)
    entry = AuditEntry(seq=state.tree.size, created_at=created_at.astimezone(timezone.utc), **fields)
    entry.leaf_hash = leaf_hash(canonical_bytes(leaf_of(entry)))
    state.tree.append(entry.leaf_hash)
    size, nodes = state.tree.state()
    state.row.size, state.row.frontier = size, b"".join(nodes)
    session.add(entry)
    return entry


async def append_many(session: AsyncSession, rows: list[Mapping[str, Any]], created_at: datetime) -> None:
    """Like `append` for a batch: the same sequence numbers and leaves, one multi-row INSERT."""
    if not rows:
        return
    state = await _locked_head(session)
    moment, values = created_at.astimezone(timezone.utc), []
    for fields in rows:
        columns = {**fields, "seq": state.tree.size, "created_at": moment}
        columns["leaf_hash"] = leaf_hash(canonical_bytes(_leaf(columns)))
        state.tree.append(columns["leaf_hash"])
        values.append(columns)
    size, nodes = state.tree.state()
    state.row.size, state.row.frontier = size, b"".join(nodes)
    await session.execute(insert(AuditEntry.__table__), values)  # Core: no ORM work per row


async def tree_size(session: AsyncSession) -> int:
    """Entries committed so far (what a checkpoint made now would cover)."""
    return await session.scalar(select(AuditHead.size).where(AuditHead.id == HEAD_ID)) or 0
