"""`/healthz` and `/readyz` as a load balancer sees them: real database, real worker heartbeats."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text, update

from bridge.appkeys import SESSIONS
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

