"""Whether the schema is current is read without Alembic: the head comes from the migration files, the
database's revision from alembic_version. Alembic itself is loaded only when there is something to migrate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from bridge.operations.schema_check import SchemaState, status_of
from bridge.store import migrator, schema


def test_the_head_and_the_revisions_read_from_the_files_match_alembics():
    script = ScriptDirectory.from_config(migrator.alembic_config(schema.MIGRATIONS))
    assert schema.head() == script.get_current_head()
    assert set(schema.revisions()) == {rev.revision for rev in script.walk_revisions()}
    for rev in script.walk_revisions():
        down = rev.down_revision
        assert schema.revisions()[rev.revision] == (tuple(down) if isinstance(down, tuple) else
                                                    ((down,) if down else ()))
    older = list(schema.revisions())[3]
    expected = tuple(r.revision for r in script.iterate_revisions(script.get_current_head(), older))[::-1]
    assert schema.pending(older) == expected and schema.pending(schema.head()) == ()
    assert len(schema.pending(None)) == len(schema.revisions())


def test_status_of_names_current_pending_and_newer():
    assert status_of(schema.head()).state is SchemaState.CURRENT
    pending = status_of(list(schema.revisions())[0])
    assert pending.state is SchemaState.PENDING and pending.pending == schema.pending(list(schema.revisions())[0])
    assert status_of("9999_from_the_future").state is SchemaState.NEWER
    assert status_of(None).pending == schema.pending(None)


def test_a_start_on_a_current_database_does_not_load_alembic(booted, db_url):
    code = ("import asyncio, sys\n"
            "from bridge.store import schema\n"
            "from bridge.store.db import create_engine\n"
            "async def main():\n"
            f"    engine = create_engine({db_url!r})\n"
            "    applied = await schema.upgrade(engine)\n"
            "    await engine.dispose()\n"
            "    print(applied, 'alembic' in sys.modules)\n"
            "asyncio.run(main())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(Path(__file__).parents[3]), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "False"]


async def test_an_empty_database_is_migrated_through_alembic_and_reports_every_revision(empty_db_url):
    from bridge.store.db import create_database_file, create_engine
    create_database_file(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        assert await schema.upgrade(engine) == list(schema.pending(None))
        assert await schema.current(engine) == schema.head()
        assert await schema.upgrade(engine) == []
    finally:
        await engine.dispose()
