"""The daily credential check: a dead token shows as "reconnect needed" before any post fails, and an
account that works again gets what it refused sent."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bridge.queue import jobs
from bridge.store.models import Job, JobState
from bridge.store.platforms import AccountStatus, SendState
from bridge.platforms.health import HEALTH_JOB, ensure_health_job
from consent.models import AuditEntry
from support.mirroring import bridge  # noqa: F401  (fixture)


async def health_jobs(bridge) -> list[Job]:
    async with bridge.sessions() as s:
        return list((await s.scalars(select(Job).where(Job.kind == HEALTH_JOB).order_by(Job.id))).all())


async def reconnect_entries(bridge) -> list[AuditEntry]:
    async with bridge.sessions() as s:
        return list((await s.scalars(select(AuditEntry).where(
            AuditEntry.action == "platform.reconnect_needed"))).all())


async def test_a_revoked_token_is_noticed_before_any_post_and_a_repaired_one_sends_what_it_refused(bridge):
    bridge.mastodon.token = "revoked-by-the-platform"
    async with bridge.sessions.begin() as s:
        assert await ensure_health_job(s, bridge.config)
        assert not await ensure_health_job(s, bridge.config)  # a second start does not double the chain
    await bridge.run()
    masto = await bridge.account("masto")
    assert masto.status == AccountStatus.RECONNECT_NEEDED and masto.reason == "invalid_credentials"
    assert (await bridge.account("tg")).status == AccountStatus.OK
    assert (await bridge.account("bsky")).status == AccountStatus.OK
    [entry] = await reconnect_entries(bridge)
    assert entry.actor_role == "system" and entry.details == {"platform": "masto", "action": "check"}
    first, following = await health_jobs(bridge)
    assert first.state == JobState.DONE and following.state == JobState.QUEUED
    assert following.run_at - first.finished_at > timedelta(hours=23)  # once a day
    assert bridge.mastodon.statuses == {}  # a check sends the token, never a post

    post_id = await bridge.post("Wahlbenachrichtigungen sind verschickt", mirrors=("masto",))
    await bridge.run()
    assert (await bridge.send(post_id, "masto")).reason == "invalid_credentials"
    await bridge.make_due(HEALTH_JOB)
    await bridge.run()
    assert len(await reconnect_entries(bridge)) == 1  # still broken: no second entry

    bridge.mastodon.token = "mastodon-token"  # the platform accepts the account again
    await bridge.make_due(HEALTH_JOB)
    await bridge.run()
    assert (await bridge.account("masto")).status == AccountStatus.OK
    assert (await bridge.send(post_id, "masto")).state == SendState.SENT
    assert [s["content"] for s in bridge.mastodon.statuses.values()] == ["Wahlbenachrichtigungen sind verschickt"]


async def test_no_check_runs_where_no_platform_is_configured(make_config, sessions_only):
    config = make_config()
    assert config.platforms == ()
    async with sessions_only.begin() as s:
        assert not await ensure_health_job(s, config)
        assert await s.scalar(select(Job.id).where(Job.kind == HEALTH_JOB)) is None


async def test_a_slow_platform_holds_no_database_write_while_it_answers(bridge):
    """On SQLite an open write transaction stops every other writer; a check waits on the network."""
    bridge.mastodon.verify_delay = 0.25  # under the client's timeout: an answer, just late
    async with bridge.sessions.begin() as s:
        await ensure_health_job(s, bridge.config)
    checking = asyncio.create_task(bridge.run())
    while not any(c == "GET verify" for c in bridge.mastodon.calls) and not checking.done():
        await asyncio.sleep(0.01)
    async with bridge.sessions.begin() as s:  # another writer, e.g. the inbox storing a reply
        await jobs.enqueue(s, "unrelated", {})
    assert not checking.done()  # the write went through while the platform was still answering
    await checking
    assert (await bridge.account("masto")).status == AccountStatus.OK
