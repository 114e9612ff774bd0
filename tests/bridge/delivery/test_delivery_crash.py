"""Killing a worker in the middle of a fan-out loses no delivery: after restart every inbox gets the
activity, and only deliveries that were in flight at the kill may arrive twice (same activity id). The dead
worker's claims expire within a minute, so a restarted worker resends within 90 s."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bridge.publishing import posts
from bridge.store.db import create_engine, create_sessionmaker, utcnow
from bridge.runtime.federation import instance_key, open_federation
from bridge.store.models import Job, JobState, Role
from bridge.runtime.secrets import load_or_create_secret
from bridge.config.load import load_config
from bridge.delivery.jobs import SEND_CONCURRENCY
from bridge.handlers import standard_worker
from bridge.queue.jobs import LOCK_DURATION
from bridge.queue.context import WorkerContext
from consent.followers import add_follower
from consent.subjects import ActorFacts, remember_actor
from testkit import add_user, write_config

INBOXES = 200
ROOT = Path(__file__).resolve().parents[3]


class SlowInboxes:
    """One server, many personal inboxes; answers slowly enough that a kill lands mid-fan-out."""

    def __init__(self) -> None:
        self.received: Counter[tuple[str, str]] = Counter()
        self.answered = 0

    async def post(self, request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(0.1)
        self.received[(request.path, body["id"])] += 1
        self.answered += 1
        return web.Response(status=202)


async def followers_and_post(config, port: int, password_hash: str) -> None:
    engine = create_engine(config.database.url)
    sessions = create_sessionmaker(engine)
    federation = await open_federation(config, load_or_create_secret(config.instance.data_dir))
    async with sessions.begin() as session:
        for i in range(INBOXES):
            uri = f"http://127.0.0.1:{port}/users/u{i}"
            subject = await remember_actor(session, federation.vault, ActorFacts(uri=uri, inbox=f"{uri}/inbox"))
            await add_follower(session, federation.vault, subject, "stadt", f"{uri}#follow")
        user = await add_user(session, "erika", Role.EDITOR, ["stadt"], password_hash)
        assert (await posts.create_post(session, config, user, posts.Draft("stadt", "Hochwasserwarnung"))).ok
    await federation.close()
    await engine.dispose()


async def job_states(config) -> dict[str, int]:
    engine = create_engine(config.database.url)
    async with create_sessionmaker(engine)() as session:
        rows = dict((await session.execute(select(Job.state, func.count()).where(Job.kind == "deliver")
                                           .group_by(Job.state))).all())
    await engine.dispose()
    return rows


async def latest_lock(config) -> datetime | None:
    engine = create_engine(config.database.url)
    async with create_sessionmaker(engine)() as session:
        latest = await session.scalar(select(func.max(Job.locked_until)).where(Job.state == JobState.RUNNING))
    await engine.dispose()
    return latest


async def restart_after_lock_expiry(config) -> None:
    """What a restarted worker finds once the dead worker's locks have expired: a minute passes (the locks
    are moved back by their duration, so the test need not wait), then a worker starts."""
    engine = create_engine(config.database.url)
    sessions = create_sessionmaker(engine)
    async with sessions.begin() as session:
        for job in (await session.scalars(select(Job).where(Job.state == JobState.RUNNING))).all():
            job.locked_until -= LOCK_DURATION + timedelta(seconds=1)
        pem = await instance_key(session)
    federation = await open_federation(config, load_or_create_secret(config.instance.data_dir), pem)
    await standard_worker(WorkerContext(config, sessions, federation)).run_until_idle()
    await federation.close()
    await engine.dispose()


def children(pid: int) -> set[int]:
    """The pids of a process's children (Linux: /proc/<pid>/task/<tid>/children)."""
    return {int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()}


async def test_killing_the_worker_mid_fanout_loses_no_delivery(tmp_path, db_url, booted, test_password_hash):
    inboxes = SlowInboxes()
    app = web.Application()
    app.router.add_post("/{tail:.*}", inboxes.post)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    path = write_config(tmp_path, db_url, extra="\n[federation]\nallow_private_addresses = true\n")
    config = load_config(path)
    await followers_and_post(config, server.port, test_password_hash)

    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "worker", "--config", str(path),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    for _ in range(1200):
        await asyncio.sleep(0.02)
        if inboxes.answered >= INBOXES // 2:
            break
    signing = children(worker.pid)
    assert signing, "the worker signs in a signing process of its own"
    worker.send_signal(signal.SIGKILL)
    killed_at, answered_at_kill = utcnow(), inboxes.answered
    await worker.wait()
    for _ in range(200):  # its signing process ends with it, killed or not: no orphan keeps running
        if not any(Path(f"/proc/{pid}").exists() for pid in signing):
            break
        await asyncio.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in signing), "an orphaned signing process"
    at_kill = await job_states(config)
    assert 0 < answered_at_kill < INBOXES, "the kill must land in the middle of the fan-out"
    # What the inboxes had answered is on record, up to the answers still on their way back: a restart
    # repeats only those and the requests on the wire (at most SEND_CONCURRENCY), not the whole batch.
    assert answered_at_kill - at_kill.get(JobState.DONE, 0) <= SEND_CONCURRENCY, at_kill
    # The dead worker's claims expire within a minute of the kill (renewed while it lived, never long).
    assert await latest_lock(config) <= killed_at + LOCK_DURATION
    assert LOCK_DURATION + timedelta(seconds=1) < timedelta(seconds=90)  # the restart polls every second

    await restart_after_lock_expiry(config)
    await server.close()
    assert await job_states(config) == {JobState.DONE: INBOXES}
    paths = {p for p, _ in inboxes.received}
    assert len(paths) == INBOXES  # every inbox got it
    assert len({activity for _, activity in inboxes.received}) == 1  # one activity id, so receivers dedupe
    assert sum(inboxes.received.values()) - INBOXES <= 2 * SEND_CONCURRENCY  # only in-flight ones twice
