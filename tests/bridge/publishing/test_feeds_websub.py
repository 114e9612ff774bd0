"""WebSub: publishing a post makes the worker ping the configured hub once per changed feed."""

from __future__ import annotations

import pytest
from aiohttp import web
from sqlalchemy import select

from bridge.publishing.hubping import WEBSUB_PING_JOB
from bridge.store.models import Job, JobState
from bridge.handlers import standard_worker
from bridge.queue.context import WorkerContext
from support.public import editor, publish


@pytest.fixture
async def hub(aiohttp_server):
    """A fake hub that records every ping; `status` decides its answer."""
    received: list[dict] = []
    state = {"status": 204}

    async def ping(request: web.Request) -> web.Response:
        received.append({"content_type": request.content_type, **dict(await request.post())})
        return web.Response(status=state["status"])

    app = web.Application()
    app.router.add_post("/", ping)
    server = await aiohttp_server(app)
    return str(server.make_url("/")), received, state


async def queued_pings(sessions) -> list[Job]:
    async with sessions() as s:
        return list((await s.scalars(select(Job).where(Job.kind == WEBSUB_PING_JOB))).all())


async def test_publishing_pings_the_hub_for_the_account_instance_and_tag_feeds(make_config, booted, sessions_only,
                                                                              test_password_hash, hub):
    hub_url, received, _ = hub
    config = make_config(feeds={"websub_hub": hub_url})
    user_id = await editor(sessions_only, test_password_hash)
    await publish(sessions_only, config, user_id, "Neu im #Rathaus")
    assert len(await queued_pings(sessions_only)) == 1
    await standard_worker(WorkerContext(config, sessions_only)).run_until_idle()
    assert {r["hub.mode"] for r in received} == {"publish"}
    assert {r["content_type"] for r in received} == {"application/x-www-form-urlencoded"}
    assert {r["hub.url"] for r in received} == {
        f"http://stadt.test/{path}.{kind}" for kind in ("rss", "atom", "json")
        for path in ("@stadt", "feed", "tags/rathaus")}
    [job] = await queued_pings(sessions_only)
    assert job.state == JobState.DONE


async def test_a_failing_hub_is_retried_later_and_nothing_else_waits(make_config, booted, sessions_only,
                                                                    test_password_hash, hub):
    hub_url, received, state = hub
    state["status"] = 503
    config = make_config(feeds={"websub_hub": hub_url})
    user_id = await editor(sessions_only, test_password_hash)
    await publish(sessions_only, config, user_id, "Hub ist müde")
    await standard_worker(WorkerContext(config, sessions_only)).run_until_idle()
    [job] = await queued_pings(sessions_only)
    assert job.state == JobState.QUEUED and job.last_error == "hub_refused" and len(received) == 1


async def test_without_a_hub_nothing_is_queued(config, sessions_only, test_password_hash, booted):
    user_id = await editor(sessions_only, test_password_hash)
    await publish(sessions_only, config, user_id, "Kein Hub")
    assert await queued_pings(sessions_only) == []
