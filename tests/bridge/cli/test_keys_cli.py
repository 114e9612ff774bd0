"""`stadtbote keys rotate` as an administrator runs it: real databases, one line for every refusal."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bridge.cli.main import build_parser, main
from bridge.operations.keys import fingerprint
from bridge.store.db import create_engine, create_sessionmaker
from bridge.store.models import Actor, Job
from consent.models import AuditEntry
from testkit import write_config


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def state(url: str) -> tuple[dict[str, str], list[str], int]:
    """Public keys by account, queued job kinds, and the number of audit entries."""
    async def read():
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            keys = dict((await session.execute(select(Actor.name, Actor.public_key_pem))).all())
            kinds = list((await session.scalars(select(Job.kind).order_by(Job.id))).all())
            entries = list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())
        await engine.dispose()
        return keys, kinds, entries
    return asyncio.run(read())


def test_rotate_prints_both_fingerprints_and_queues_the_update(capsys, tmp_path, db_url):
    config = write_config(tmp_path, db_url)
    before, _, entries_before = state(db_url)
    code, out, err = run_cli(capsys, "keys", "rotate", "--actor", "stadt", "--config", str(config))
    after, kinds, entries = state(db_url)
    assert code == 0, err
    assert after["stadt"] != before["stadt"] and after["feuerwehr"] == before["feuerwehr"]
    assert after["instance.actor"] == before["instance.actor"]
    assert f"{fingerprint(before['stadt'])} -> {fingerprint(after['stadt'])}" in out
    assert "PRIVATE" not in out + err
    assert kinds[-1] == "actor_update"
    assert [(e.action, e.subject_ref) for e in entries[len(entries_before):]] == [("key.created", "actor:stadt")]


def test_the_instance_actors_key_rotates_without_an_update(capsys, tmp_path, db_url):
    config = write_config(tmp_path, db_url)
    before, kinds_before, entries_before = state(db_url)
    code, out, err = run_cli(capsys, "keys", "rotate", "--actor", "instance.actor", "--config", str(config))
    after, kinds, entries = state(db_url)
    assert code == 0, err
    assert after["instance.actor"] != before["instance.actor"] and after["stadt"] == before["stadt"]
    assert f"{fingerprint(before['instance.actor'])} -> {fingerprint(after['instance.actor'])}" in out
    assert kinds == kinds_before  # nobody follows the instance actor
    assert [(e.action, e.subject_ref) for e in entries[len(entries_before):]] == [
        ("key.created", "actor:instance.actor")]


@pytest.mark.parametrize("name, message", [
    ("nobody", "cannot rotate the key of 'nobody': no such account"),
])
def test_an_unknown_account_is_one_line_and_changes_nothing(capsys, tmp_path, db_url, name, message):
    config = write_config(tmp_path, db_url)
    before = state(db_url)
    code, out, err = run_cli(capsys, "keys", "rotate", "--actor", name, "--config", str(config))
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"stadtbote: {message}") and "Traceback" not in err
    after = state(db_url)
    assert after[0] == before[0] and after[1] == before[1] and len(after[2]) == len(before[2])


def test_an_unreachable_database_is_one_line(capsys, tmp_path):
    config = write_config(tmp_path, "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    code, _, err = run_cli(capsys, "keys", "rotate", "--actor", "stadt", "--config", str(config))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith("stadtbote: cannot reach the database")


def test_a_database_without_the_schema_is_one_line(capsys, tmp_path, empty_db_url):
    config = write_config(tmp_path, empty_db_url)
    code, _, err = run_cli(capsys, "keys", "rotate", "--actor", "stadt", "--config", str(config))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "the database has no schema yet" in err and "run `stadtbote db upgrade` first" in err


def test_the_verb_needs_an_account(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["keys", "rotate"])
    assert exit_.value.code == 2 and "--actor" in capsys.readouterr().err
