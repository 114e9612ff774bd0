"""`/healthz` and `/readyz` as a load balancer sees them: real database, real worker heartbeats."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bridge.appkeys import ENGINE, SESSIONS
from bridge.queue import heartbeats
from bridge.store.db import utcnow
from bridge.store.models import WorkerHeartbeat


async def _get(client, path: str) -> tuple[int, dict, object]:
    response = await client.get(path)
    return response.status, await response.json(), response


async def test_healthz_answers_without_cookie_or_database(client):
    status, body, response = await _get(client, "/healthz")
    assert (status, body) == (200, {"status": "ok"})
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


async def test_readyz_wants_a_worker_that_beat_within_a_minute(client):
    status, body, response = await _get(client, "/readyz")
    assert status == 503 and body["reason"] == "worker" and body["status"] == "not_ready"
    assert "Set-Cookie" not in response.headers
    async with client.app[SESSIONS].begin() as session:
        await heartbeats.beat(session, "host:1:abc")
    status, body, _ = await _get(client, "/readyz")
    assert (status, body) == (200, {"status": "ready"})
    async with client.app[SESSIONS].begin() as session:
        await session.execute(update(WorkerHeartbeat).values(beat_at=utcnow() - timedelta(seconds=61)))
    status, body, _ = await _get(client, "/readyz")
    assert (status, body["reason"]) == (503, "worker")


async def test_readyz_refuses_a_schema_that_is_not_current(client):
    async with client.app[SESSIONS].begin() as session:
        await heartbeats.beat(session, "host:1:abc")
        await session.execute(text("UPDATE alembic_version SET version_num = '0012'"))
    status, body, _ = await _get(client, "/readyz")
    assert (status, body["reason"]) == (503, "migrations")
    assert "stadtbote db check" in body["description"]



async def test_readyz_says_database_when_the_database_cannot_be_opened(client, config, tmp_path):
    async with client.app[SESSIONS].begin() as session:
        await heartbeats.beat(session, "host:1:abc")
    assert (await client.get("/readyz")).status == 200
    if config.database.url.startswith("sqlite"):
        # The database file is gone and a folder stands in its place: no connection can open it.
        await client.app[ENGINE].dispose()
        path = Path(config.database.url.removeprefix("sqlite+aiosqlite:///"))
        path.rename(tmp_path / "moved.sqlite3")
        path.mkdir()
    else:  # PostgreSQL: the database is renamed away under the server
        await client.app[ENGINE].dispose()
        name = make_url(config.database.url).database
        await _pg_admin(config.database.url, f'ALTER DATABASE "{name}" RENAME TO "{name}_away"')
    try:
        status, body, response = await _get(client, "/readyz")
        assert (status, body["reason"]) == (503, "database") and "Set-Cookie" not in response.headers
        assert (await client.get("/healthz")).status == 200, "liveness does not depend on the database"
    finally:
        if not config.database.url.startswith("sqlite"):
            await _pg_admin(config.database.url, f'ALTER DATABASE "{name}_away" RENAME TO "{name}"')


async def _pg_admin(url: str, statement: str) -> None:
    engine = create_async_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(statement)
    await engine.dispose()
