"""Schema migrations through Alembic, run in code (no alembic.ini to keep in sync).

Alembic (about 11 MB and 0.15 s of imports) is loaded only to migrate: whether the database is current is a
plain read of alembic_version against the head named in the migration files themselves."""

from __future__ import annotations

import ast
import functools
import importlib
import re
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]+)?=\s*(.+)$", re.MULTILINE)


@functools.cache
def revisions() -> dict[str, tuple[str, ...]]:
    """Each shipped revision and the revisions it follows, read from the files' `revision = …` lines (the
    shipped files do not change while a process runs)."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        found = {name: ast.literal_eval(value.strip()) for name, value in _ASSIGNMENT.findall(path.read_text())}
        if "revision" not in found:
            continue
        down = found.get("down_revision")
        graph[found["revision"]] = tuple(down) if isinstance(down, (tuple, list)) else ((down,) if down else ())
    return graph


def head() -> str | None:
    """The newest revision: the one no other revision follows."""
    graph = revisions()
    followed = {down for downs in graph.values() for down in downs}
    heads = [rev for rev in graph if rev not in followed]
    return heads[0] if len(heads) == 1 else None


def pending(database: str | None) -> tuple[str, ...]:
    """The revisions between `database` and the head, oldest first (all of them for an empty database)."""
    graph, chain, rev = revisions(), [], head()
    while rev is not None and rev != database:
        chain.append(rev)
        downs = graph.get(rev, ())
        rev = downs[0] if downs else None
    return tuple(reversed(chain))


async def upgrade(engine: AsyncEngine) -> list[str]:
    """Run pending migrations; returns the revisions applied (empty when already current)."""
    before = await current(engine)
    if before is not None and before == head():
        return []
    migrator = importlib.import_module("bridge.store.migrator")  # only now: a current database never loads Alembic
    async with engine.begin() as conn:
        await conn.run_sync(migrator.upgrade_to_head, MIGRATIONS)
    return list(pending(before))


async def current(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(read_revision)


def read_revision(sync_conn) -> str | None:
    """The revision in alembic_version, read with plain SQL; None for a database without a schema."""
    if not inspect(sync_conn).has_table("alembic_version"):
        return None
    return sync_conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
