"""The database's part of a backup. SQLite through the sqlite3 module's online backup API (a consistent
snapshot while the server writes); PostgreSQL through pg_dump and pg_restore in their custom format, with
the connection handed over in libpq's environment variables so no password shows in a process list."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from bridge.store.db import create_engine

SQLITE, POSTGRESQL = "sqlite", "postgresql"
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


class ToolFailed(Exception):
    """pg_dump or pg_restore is missing or failed; the message is one line naming it."""


def database_kind(url: str) -> str:
    return SQLITE if url.startswith("sqlite") else POSTGRESQL


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "").absolute()


def sqlite_files(url: str) -> list[Path]:
    """The database file and the files SQLite keeps beside it while it runs."""
    path = sqlite_path(url)
    return [path] + [path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS]


def snapshot_sqlite(url: str, target: Path) -> str | None:
    """Copy the live database into `target` (one self-contained file); returns its schema revision."""
    source = sqlite3.connect(sqlite_path(url), timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: one read transaction, so one consistent state
        copy.execute("PRAGMA journal_mode=DELETE")  # no -wal file needed beside the copy
        return _revision(copy)
    finally:
        copy.close()
        source.close()


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def find_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolFailed(f"{name} not found on PATH: install the PostgreSQL client tools (Debian: "
                         f"postgresql-client) matching the server's major version")
    return path


def libpq_environment(url: str) -> dict[str, str]:
    parts = make_url(url)
    env = dict(os.environ)
    for name, value in (("PGHOST", parts.host), ("PGPORT", parts.port), ("PGUSER", parts.username),
                        ("PGPASSWORD", parts.password), ("PGDATABASE", parts.database)):
        if value is not None:
            env[name] = str(value)
    ssl = parts.query.get("ssl") or parts.query.get("sslmode")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = ssl
    return env


def dump_postgres(url: str, target: Path) -> None:
    _run([find_tool("pg_dump"), "--format=custom", f"--file={target}"], url, "pg_dump")


def restore_postgres(url: str, source: Path) -> None:
    """One transaction: a failure leaves the database as it was. Owners and grants of the old server are
    not carried over; the configured user owns what it restores."""
    _run([find_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={make_url(url).database}", str(source)], url, "pg_restore")


def _run(argv: list[str], url: str, name: str) -> None:
    done = subprocess.run(argv, env=libpq_environment(url), capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise ToolFailed(f"{name} failed (exit {done.returncode}): {lines[-1] if lines else 'no message'}")


async def table_count(url: str) -> int:
    """Tables in the target database; 0 for a SQLite file that does not exist yet (it is not created)."""
    if database_kind(url) == SQLITE and not sqlite_path(url).exists():
        return 0
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return len(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def database_revision(url: str) -> str | None:
    """The schema revision in alembic_version (read directly: Alembic's context would log at every start);
    None for a database without a schema, or a SQLite file that does not exist yet (it is not created)."""
    if database_kind(url) == SQLITE and not sqlite_path(url).exists():
        return None
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
                return None
            return await conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()


async def empty_postgres(url: str) -> None:
    """`restore --force`: the schema the configured user works in, emptied by dropping and re-creating it."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            name = await conn.scalar(text("SELECT current_schema()"))
            quoted = conn.dialect.identifier_preparer.quote(name)
            await conn.execute(text(f"DROP SCHEMA {quoted} CASCADE"))
            await conn.execute(text(f"CREATE SCHEMA {quoted}"))
    finally:
        await engine.dispose()
