"""The periodic job chains (retention, audit checkpoints, the platform credential check, feed polls) are
started in one place, `bridge.handlers.start_chains`, by whatever runs the standard worker — `serve` with
its worker and `stadtbote worker` — and never by the web application itself."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import select

from bridge.app import create_app
from bridge.appkeys import SESSIONS
from bridge.handlers import standard_worker, start_chains
from bridge.platforms.health import HEALTH_JOB
from bridge.privacy.jobs import CHECKPOINT_JOB, RETENTION_JOB
from bridge.publishing.feedimport import POLL_JOB
from bridge.queue.context import WorkerContext
from bridge.runtime.accounts import adopt_file_accounts
from bridge.store.models import Job, JobState

WEB = Path(__file__).resolve().parents[3] / "bridge" / "web"
# Nowhere reachable: the address guard refuses loopback, so a credential check never leaves the machine.
PLATFORM = {"id": "masto", "kind": "mastodon", "api_base": "http://127.0.0.1:9", "access_token": "t",
            "recipient": "Operator Inc.", "country": "US", "transfer_mechanism": "SCC"}
CHAINS = {RETENTION_JOB, CHECKPOINT_JOB, HEALTH_JOB, POLL_JOB}


def chain_config(make_config):
    return make_config(platforms=[PLATFORM],
                       actors=[{"name": "stadt", "display_name": "Stadt", "import_feed_url": "http://127.0.0.1:9/f"}])


async def pending_kinds(sessions) -> set[str]:
    async with sessions() as session:
        return set((await session.scalars(select(Job.kind).where(
            Job.state.in_((JobState.QUEUED, JobState.RUNNING, JobState.DONE))))).all())


async def wait_for_chains(sessions) -> set[str]:
    for _ in range(200):
        kinds = await pending_kinds(sessions)
        if CHAINS <= kinds:
            return kinds
        await asyncio.sleep(0.05)
    return await pending_kinds(sessions)


async def started_with(config, sessions):
    """What every start (`serve`, `stadtbote worker`) does first: the file's accounts are adopted into the database,
    where the chains find them (accounts live in the database since issue 19)."""
    async with sessions.begin() as session:
        await adopt_file_accounts(session, config)
    return config


async def test_start_chains_starts_each_chain_once(make_config, booted, sessions_only):
    config = await started_with(chain_config(make_config), sessions_only)
    assert set(await start_chains(sessions_only, config)) == {RETENTION_JOB, CHECKPOINT_JOB, HEALTH_JOB,
                                                               f"{POLL_JOB}:stadt"}
    assert await start_chains(sessions_only, config) == []  # a second process starting doubles nothing


async def test_the_web_application_alone_schedules_no_job(aiohttp_client, make_config, booted, sessions_only):
    await aiohttp_client(create_app(chain_config(make_config), run_worker=False))
    assert await pending_kinds(sessions_only) & CHAINS == set()


async def test_serve_with_its_worker_starts_the_chains(aiohttp_client, make_config, booted):
    client = await aiohttp_client(create_app(chain_config(make_config), run_worker=True))
    assert CHAINS <= await wait_for_chains(client.app[SESSIONS])


async def test_the_standalone_worker_starts_the_chains(make_config, booted, sessions_only):
    worker = standard_worker(WorkerContext(await started_with(chain_config(make_config), sessions_only), sessions_only))
    running = asyncio.create_task(worker.run_forever())
    try:
        assert CHAINS <= await wait_for_chains(sessions_only)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


def test_no_web_module_schedules_jobs():
    """Job chains are the worker's business: no start-up hook and no queue call in the web layer."""
    pattern = re.compile(r"on_startup|bridge\.queue|ensure_\w*jobs?\b|ensure_polls|schedule_once|start_chains")
    offenders = [str(p.relative_to(WEB)) for p in WEB.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
