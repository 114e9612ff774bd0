"""The audit log in the database: append-only triggers, gap-free sequence numbers (also under concurrent
appends), leaf hashes, signed checkpoints, exports the offline verifier accepts, and a verifier that
imports nothing but the standard library, `cryptography` and the consent package."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from consent.audit import Action, Event, record
from consent.auditexport import entry_proof, export_chunks, leaf_hashes
from consent.auditlog import leaf_of
from consent.auditsigning import load_or_create_signer, origin_for, write_checkpoint
from consent.canonical import canonical_bytes
from consent.merkle import leaf_hash, root
from consent.models import AuditEntry
from consent.verifier import verify_export, verify_proof_document

ROOT = Path(__file__).resolve().parents[2]


def event(n: int = 0) -> Event:
    return Event(Action.POST_CREATED, "editor", f"user:{n}", subject_ref=f"post:{n}", details={"n": n})


async def append(sessions, count: int) -> None:
    async with sessions.begin() as session:
        for n in range(count):
            await record(session, event(n))


async def all_entries(sessions) -> list[AuditEntry]:
    async with sessions() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def export(sessions, signer, since: int = 0) -> dict:
    async with sessions() as session:
        return json.loads("".join([c async for c in export_chunks(session, signer.origin, since)]))


@pytest.fixture
def signer(tmp_path):
    return load_or_create_signer(tmp_path / "keys", "https://stadt.example")


async def test_entries_are_numbered_from_zero_without_gaps_and_hashed_as_merkle_leaves(sessions_only):
    await append(sessions_only, 5)
    entries = await all_entries(sessions_only)
    assert [e.seq for e in entries] == list(range(len(entries)))
    for e in entries:
        assert e.leaf_hash == leaf_hash(canonical_bytes(leaf_of(e)))
        assert e.purpose and e.legal_basis and e.retention_class
    last = entries[-1]
    assert (last.action, last.purpose, last.legal_basis, last.retention_class) == (
        "post.created", "public_relations", "gdpr_6_1_e", "audit")


async def test_a_rolled_back_append_leaves_no_gap(sessions_only):
    before = len(await all_entries(sessions_only))
    async with sessions_only() as session:
        await record(session, event())
        await session.rollback()
    await append(sessions_only, 1)
    assert [e.seq for e in await all_entries(sessions_only)] == list(range(before + 1))


@pytest.mark.parametrize("statement", [
    update(AuditEntry).values(reason="tampered"),
    delete(AuditEntry),
])
async def test_the_database_refuses_to_change_or_remove_an_entry(sessions_only, statement):
    await append(sessions_only, 1)
    async with sessions_only() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(statement.execution_options(synchronize_session=False))
            await session.commit()


async def test_the_database_refuses_raw_sql_changes_too(sessions_only, signer):
    await append(sessions_only, 1)
    async with sessions_only.begin() as session:
        await write_checkpoint(session, signer)
    for sql in ("UPDATE audit_entry SET outcome = 'ok'", "DELETE FROM audit_entry WHERE seq = 0",
                "UPDATE audit_checkpoint SET size = 0", "DELETE FROM audit_checkpoint"):
        async with sessions_only() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(sql))
                await session.commit()


async def test_concurrent_appends_get_gap_free_unique_numbers(sessions_only, signer):
    before = len(await all_entries(sessions_only))

    async def writer(n: int) -> None:
        for _ in range(5):
            async with sessions_only.begin() as session:
                await record(session, event(n))
                await asyncio.sleep(0)  # let the others try to append meanwhile

    await asyncio.gather(*(writer(n) for n in range(8)))
    entries = await all_entries(sessions_only)
    assert [e.seq for e in entries] == list(range(before + 40))
    async with sessions_only.begin() as session:
        await write_checkpoint(session, signer)
    report = verify_export(await export(sessions_only, signer), signer.verifier_key, signer.origin)
    assert report.ok and report.entries == before + 40


async def test_checkpoint_signs_the_tree_of_the_stored_leaves_and_is_not_repeated(sessions_only, signer):
    await append(sessions_only, 3)
    async with sessions_only.begin() as session:
        first = await write_checkpoint(session, signer)
        again = await write_checkpoint(session, signer)
        hashes = await leaf_hashes(session)
    assert again.id == first.id and first.size == len(hashes) and first.root == root(hashes)
    assert first.note.startswith(f"{origin_for('https://stadt.example')}\n{first.size}\n")


async def test_full_and_partial_exports_verify_and_an_entry_proof_verifies(sessions_only, signer):
    await append(sessions_only, 4)
    async with sessions_only.begin() as session:
        middle = await write_checkpoint(session, signer)
    await append(sessions_only, 4)
    async with sessions_only.begin() as session:
        last = await write_checkpoint(session, signer)
    full = await export(sessions_only, signer)
    assert verify_export(full, signer.verifier_key, signer.origin).ok
    assert full["proofs"] and full["proofs"][0]["new_size"] == last.size
    partial = await export(sessions_only, signer, since=middle.size + 2)  # rounded down to the checkpoint
    assert partial["base"]["size"] == middle.size and partial["entries"][0]["seq"] == middle.size
    assert verify_export(partial, signer.verifier_key, signer.origin).ok
    async with sessions_only() as session:
        proof = await entry_proof(session, last.size - 1, last)
    assert verify_proof_document(proof, signer.verifier_key, signer.origin).ok


async def test_a_changed_row_is_caught_by_the_verifier_even_without_the_triggers(sessions_only, signer):
    await append(sessions_only, 3)
    async with sessions_only.begin() as session:
        await write_checkpoint(session, signer)
    exported = await export(sessions_only, signer)
    exported["entries"][1]["leaf"]["outcome"] = "denied"  # what an edit of the row would export
    report = verify_export(exported, signer.verifier_key, signer.origin)
    assert not report.ok and report.first_problem.seq == 1


def test_the_verifier_imports_no_database_or_web_library():
    blocker = ("import sys\n"
               "class Block:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name.split('.')[0] in ('sqlalchemy', 'aiohttp', 'bridge', 'jinja2', 'alembic'):\n"
               "            raise ImportError(f'blocked: {name}')\n"
               "sys.meta_path.insert(0, Block())\n"
               "import consent.verifier, consent.checkpoint, consent.merkle, consent.canonical\n"
               "print(sorted(m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('sqlalchemy','bridge')))\n")
    done = subprocess.run([sys.executable, "-c", blocker], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
