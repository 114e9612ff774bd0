"""Audit log benchmark: appends per second on SQLite, verification rate of a large export, proof sizes.

    .venv/bin/python tests/bench/bench_audit.py [--batch 20000] [--single 1000] [--export 1000000]
                                                 [--db URL]

1. Appends through `consent.audit.record` (head row lock, canonical bytes, leaf hash, frontier update):
   many entries in one transaction, and one commit per entry (a sign-in, an inbox request).
2. An export of `--export` entries built with the real code path (AuditEntry rows → `leaf_of` →
   canonical bytes → leaf hashes → signed checkpoints every 100,000 entries), written to a file, then
   loaded and checked by `consent.verifier.verify_export` as `stadtbote audit verify` does.
3. Inclusion and consistency proof length and time for trees of 10^3 … 10^6 leaves (log2 n growth).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bridge.store import schema  # noqa: E402
from bridge.store.db import create_engine, create_sessionmaker  # noqa: E402
from consent.audit import Action, Event, record  # noqa: E402
from consent.auditlog import leaf_of  # noqa: E402
from consent.auditsigning import load_or_create_signer  # noqa: E402
from consent.canonical import b64, canonical_bytes  # noqa: E402
from consent.merkle import (CompactTree, consistency_proof, inclusion_proof, leaf_hash, root,  # noqa: E402
                            verify_consistency, verify_inclusion)
from consent.models import AuditEntry  # noqa: E402
from consent.verifier import verify_export  # noqa: E402


def event(n: int) -> Event:
    return Event(Action.INBOUND_ACCEPTED, "remote", f"p{n:031d}", subject_ref=f"p{n:031d}",
                 reason="reply_stored", purpose="federation", details={"type": "Create", "domain": "mastodon.test"})


async def appends(url: str, batch: int, single: int) -> None:
    engine = create_engine(url)
    await schema.upgrade(engine)
    sessions = create_sessionmaker(engine)
    started = time.perf_counter()
    for offset in range(0, batch, 1000):
        async with sessions.begin() as session:
            for n in range(offset, min(batch, offset + 1000)):
                await record(session, event(n))
    batched = batch / (time.perf_counter() - started)
    started = time.perf_counter()
    for n in range(single):
        async with sessions.begin() as session:
            await record(session, event(n))
    each = single / (time.perf_counter() - started)
    await engine.dispose()
    print(f"appends, 1000 per transaction:   {batched:10,.0f} /s  ({batch:,} entries)")
    print(f"appends, one commit per entry:   {each:10,.0f} /s  ({single:,} entries)")


def synthetic_export(n: int, signer, every: int = 100_000) -> dict:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tree, entries, notes = CompactTree(), [], []
    for seq in range(n):
        row = AuditEntry(seq=seq, created_at=start + timedelta(seconds=seq), action="inbound.accepted",
                         actor_role="remote", actor_ref=f"p{seq:031d}", subject_ref=f"p{seq:031d}", outcome="ok",
                         reason="reply_stored", purpose="federation", legal_basis="gdpr_6_1_e",
                         retention_class="audit", details={"type": "Create", "domain": "mastodon.test"})
        leaf = leaf_of(row)
        digest = leaf_hash(canonical_bytes(leaf))
        tree.append(digest)
        entries.append({"seq": seq, "leaf": leaf, "leaf_hash": b64(digest)})
        if tree.size % every == 0 or tree.size == n:
            notes.append(signer.sign(tree.size, tree.root()))
    return {"origin": signer.origin, "checkpoints": notes, "entries": entries}


def verification(n: int, folder: Path) -> None:
    signer = load_or_create_signer(folder, "https://stadt.example")
    started = time.perf_counter()
    export = synthetic_export(n, signer)
    path = folder / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    built = time.perf_counter() - started
    del export
    started = time.perf_counter()
    loaded = json.loads(path.read_text(encoding="utf-8"))
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    report = verify_export(loaded, signer.verifier_key, signer.origin)
    checked = time.perf_counter() - started
    assert report.ok and report.verified_size == n, report.problems[:3]
    size_mb = path.stat().st_size / 1e6
    print(f"export of {n:,} entries: {size_mb:,.0f} MB, built and written in {built:.1f} s")
    print(f"verification: JSON load {parsed:.1f} s, verify {checked:.1f} s "
          f"= {n / checked:,.0f} entries/s ({n / (parsed + checked):,.0f} entries/s including the load)")


def proofs() -> None:
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(1_000_000)]
    print("tree size   inclusion: hashes  bytes  make ms  check ms   consistency: hashes  bytes")
    for exponent in range(3, 7):
        n = 10 ** exponent
        tree, index = leaves[:n], n // 3
        started = time.perf_counter()
        path = inclusion_proof(tree, index)
        made = (time.perf_counter() - started) * 1000
        top = root(tree)
        started = time.perf_counter()
        assert verify_inclusion(tree[index], index, n, path, top).ok
        checked = (time.perf_counter() - started) * 1000
        consistency = consistency_proof(tree, n // 2 + 1)
        assert verify_consistency(n // 2 + 1, n, root(tree[:n // 2 + 1]), top, consistency).ok
        print(f"{n:>9,}   {len(path):>17}  {32 * len(path):>5}  {made:>7.0f}  {checked:>8.3f}"
              f"   {len(consistency):>19}  {32 * len(consistency):>5}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--single", type=int, default=1_000)
    parser.add_argument("--export", type=int, default=1_000_000)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        asyncio.run(appends(args.db or f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}", args.batch, args.single))
        verification(args.export, folder)
    proofs()


if __name__ == "__main__":
    main()
