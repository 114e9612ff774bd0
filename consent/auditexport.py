"""Exports of the audit log in the offline verifier's format (`consent.verifier`), and proofs for entries.

An export is written as a stream of JSON text so that a log of millions of entries never sits in memory
as objects: origin, checkpoints, an optional `base` (partial export), one consistency proof from the
first to the last checkpoint, then the entries in sequence order.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.auditlog import leaf_of
from consent.auditsigning import checkpoints
from consent.canonical import b64
from consent.merkle import CompactTree, consistency_proof
from consent.models import AuditEntry
from consent.models_privacy import AuditCheckpoint
from consent.verifier import inclusion_proof_document

PAGE = 5000


async def leaf_hashes(session: AsyncSession, start: int = 0, stop: int | None = None) -> list[bytes]:
    """Stored leaf hashes of entries start..stop-1, in order."""
    query = select(AuditEntry.leaf_hash).where(AuditEntry.seq >= start).order_by(AuditEntry.seq)
    if stop is not None:
        query = query.where(AuditEntry.seq < stop)
    return [bytes(h) for h in (await session.scalars(query)).all()]


async def anchor_for(session: AsyncSession, since: int) -> int:
    """A partial export must start where a checkpoint ends (it vouches for the leaves before): the largest
    checkpoint size not above `since`, or 0."""
    sizes = [c.size for c in await checkpoints(session) if c.size <= since]
    return max(sizes, default=0)


async def export_chunks(session: AsyncSession, origin: str, since: int = 0) -> AsyncIterator[str]:
    """The export as JSON text pieces; `since` is rounded down to a checkpoint (see `anchor_for`)."""
    start = await anchor_for(session, since) if since > 0 else 0
    notes = await checkpoints(session, start)
    head: dict[str, Any] = {"origin": origin, "checkpoints": [c.note for c in notes]}
    hashes = await leaf_hashes(session, 0, notes[-1].size) if notes else []
    if start:
        tree = CompactTree()
        for h in hashes[:start]:
            tree.append(h)
        head["base"] = {"size": start, "nodes": [b64(n) for n in tree.state()[1]]}
    if len(notes) > 1 and notes[0].size > 0:
        proof = consistency_proof(hashes, notes[0].size)
        head["proofs"] = [{"old_size": notes[0].size, "new_size": notes[-1].size,
                           "consistency": [b64(p) for p in proof]}]
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "entries": ['
    first, seq = True, start
    while True:
        page = (await session.scalars(select(AuditEntry).where(AuditEntry.seq >= seq)
                                      .order_by(AuditEntry.seq).limit(PAGE))).all()
        if not page:
            break
        parts = [json.dumps({"seq": e.seq, "leaf": leaf_of(e), "leaf_hash": b64(e.leaf_hash)}, ensure_ascii=False)
                 for e in page]
        yield ("" if first else ",") + "\n" + ",\n".join(parts)
        first, seq = False, page[-1].seq + 1
        session.expunge_all()  # a million entries must not pile up in the identity map
    yield "\n]}\n"


async def entry_proof(session: AsyncSession, seq: int, checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """An inclusion-proof document (`consent.verifier`) for entry `seq` under `checkpoint`."""
    entry = await session.get(AuditEntry, seq)
    if entry is None or seq >= checkpoint.size:
        raise ValueError(f"entry {seq} is not covered by the checkpoint of size {checkpoint.size}")
    hashes = await leaf_hashes(session, 0, checkpoint.size)
    return inclusion_proof_document(hashes, seq, checkpoint.note, leaf_of(entry))
