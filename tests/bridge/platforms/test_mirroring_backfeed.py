"""Backfeed: public replies on the platforms land in the consent store, labelled, and leave it again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bridge.platforms import sends as mirroring
from bridge.platforms.backfeed import DEFAULT_CADENCE
from bridge.store.models import Job, JobState
from consent.models import Reply, Subject
from support.mirroring import PLATFORMS, bridge, start_bridge  # noqa: F401  (fixture)
from fakes.platform_servers import bsky_reply, mastodon_reply, telegram_comment


async def replies(bridge) -> list[tuple[str, str]]:
    async with bridge.sessions() as s:
        rows = (await s.execute(select(Reply, Subject).join(Subject, Subject.id == Reply.subject_id))).all()
    return sorted((r.signals["platform"], subject.kind) for r, subject in rows)


async def test_public_replies_from_three_platforms_are_stored_and_opt_outs_skipped(bridge):
    post_id = await bridge.post("Wie gefällt Ihnen der neue Spielplatz?")
    await bridge.run()
    bridge.bluesky.thread_replies = [bsky_reply("r1", "did:plc:anna", "Super!"),
                                     bsky_reply("r2", "did:plc:ben", "nein", labels=["!no-unauthenticated"])]
    bridge.mastodon.descendants = [mastodon_reply(1, "Toll"), mastodon_reply(2, "geheim", "direct")]
    channel_id = int((await bridge.send(post_id, "tg")).remote_id)
    bridge.telegram.updates = [telegram_comment(1, channel_id, 77, "Endlich!")]
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    assert await replies(bridge) == [("bsky", "bluesky"), ("masto", "mastodon"), ("tg", "telegram")]
    async with bridge.sessions() as s:
        stored = (await s.scalars(select(Reply))).all()
        assert all(r.post_id == post_id and r.state == "pending" and r.retain_until > r.received_at for r in stored)
        assert all(b"Super" not in r.enc_content for r in stored)  # sealed with the author's key
        upcoming = (await s.scalars(select(Job).where(Job.kind == mirroring.BACKFEED_JOB,
                                                      Job.state == JobState.QUEUED))).all()
    assert len(upcoming) == 3  # each platform polls again on its cadence


async def test_a_reply_deleted_on_the_platform_is_erased_here(bridge):
    await bridge.post("Umfrage", mirrors=("bsky",))
    await bridge.run()
    bridge.bluesky.thread_replies = [bsky_reply("r1", "did:plc:anna", "Ja"), bsky_reply("r2", "did:plc:ben", "Nein")]
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    assert len(await replies(bridge)) == 2
    bridge.bluesky.thread_replies = [bsky_reply("r2", "did:plc:ben", "Nein")]
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    assert len(await replies(bridge)) == 1


async def test_a_broken_reply_source_keeps_the_schedule_and_stores_nothing(bridge):
    await bridge.post("Kaputt", mirrors=("bsky",))
    await bridge.run()
    bridge.bluesky.mode = "malformed"
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    assert await replies(bridge) == []
    async with bridge.sessions() as s:
        job = await s.scalar(select(Job).where(Job.kind == mirroring.BACKFEED_JOB, Job.state == JobState.QUEUED))
    assert job is not None


def test_the_cadence_is_frequent_at_first_then_rarer_then_stops():
    assert mirroring.backfeed_delay(timedelta(hours=2), DEFAULT_CADENCE) == timedelta(minutes=15)
    assert mirroring.backfeed_delay(timedelta(days=3), DEFAULT_CADENCE) == timedelta(hours=1)
    assert mirroring.backfeed_delay(timedelta(days=20), DEFAULT_CADENCE) == timedelta(days=1)
    assert mirroring.backfeed_delay(timedelta(days=31), DEFAULT_CADENCE) is None


async def test_the_first_poll_after_a_send_follows_the_platforms_configured_cadence(make_config, sessions_only,
                                                                                    aiohttp_server,
                                                                                    test_password_hash):
    """A platform with its own cadence is first asked after its first interval (5 minutes here), the others
    after the default's 15 minutes; with backfeed off there is no poll at all."""
    platforms = [{**PLATFORMS[0], "backfeed_cadence": [[5, 60], [30, 1440]]}, PLATFORMS[1],
                 {**PLATFORMS[2], "backfeed": False}]
    bridge, closing = await start_bridge(make_config, sessions_only, aiohttp_server, test_password_hash,
                                         platforms=platforms)
    try:
        post_id = await bridge.post("Sprechstunde des Bürgermeisters")
        await bridge.run()
        async with bridge.sessions() as s:
            upcoming = (await s.scalars(select(Job).where(Job.kind == mirroring.BACKFEED_JOB,
                                                          Job.state == JobState.QUEUED))).all()
            sends = {p: await bridge.send(post_id, p) for p in ("bsky", "masto", "tg")}
        waits = {job.payload["platform_id"]: job.run_at - sends[job.payload["platform_id"]].sent_at for job in upcoming}
        assert waits == {"bsky": timedelta(minutes=5), "masto": timedelta(minutes=15)}
    finally:
        for federation in closing:
            await federation.close()
