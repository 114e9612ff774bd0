"""`GET /healthz` (the process answers) and `GET /readyz` (it can do its work: the database answers, its
schema is current, and a worker has beaten within the last minute). For a load balancer and systemd-style
checks; no cookie, no session, nothing about the caller is logged or kept."""

from __future__ import annotations

import asyncio
import enum
import functools
from datetime import timedelta

from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bridge.appkeys import SESSIONS
from bridge.store import schema
from bridge.store.db import utcnow
from bridge.store.models import WorkerHeartbeat

WORKER_SILENCE = timedelta(seconds=60)  # workers beat every 15 s; four missed beats mean none is working
DATABASE_TIMEOUT = 5.0  # seconds; a probe that hangs is as bad as a failed one
NO_STORE = {"Cache-Control": "no-store"}


class Readiness(enum.StrEnum):
    READY = "ready"
    DATABASE = "database"
    MIGRATIONS = "migrations"
    WORKER = "worker"

    @property
    def description(self) -> str:
        return {
            Readiness.READY: "the database answers, its schema is current and a worker is running",
            Readiness.DATABASE: "the database does not answer",
            Readiness.MIGRATIONS: "the database schema is not the one this version needs (stadtbote db check)",
            Readiness.WORKER: "no worker has reported in the last 60 seconds (stadtbote worker)",
        }[self]


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"}, headers=NO_STORE)


async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            readiness = await check(request.app)
    except (SQLAlchemyError, OSError, TimeoutError):
        readiness = Readiness.DATABASE
    if readiness is Readiness.READY:
        return web.json_response({"status": str(readiness)}, headers=NO_STORE)
    return web.json_response({"status": "not_ready", "reason": str(readiness),
                              "description": readiness.description}, status=503, headers=NO_STORE)


async def check(app: web.Application) -> Readiness:
    """The first thing missing; database errors propagate to the caller (→ `Readiness.DATABASE`)."""
    async with app[SESSIONS]() as session:
        await session.execute(text("SELECT 1"))
        # Read directly: Alembic's own reader logs two lines per call, and probes come every few seconds.
        if await session.scalar(text("SELECT version_num FROM alembic_version")) != _head():
            return Readiness.MIGRATIONS
        # Workers write these rows (beside their job claims); the web layer only reads the newest.
        beat = await session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    if beat is None or utcnow() - beat > WORKER_SILENCE:
        return Readiness.WORKER
    return Readiness.READY


@functools.cache
def _head() -> str | None:
    """The migrations shipped with this version do not change while it runs: read them once."""
    return schema.head()
