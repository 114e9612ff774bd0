"""Retention purges exactly what is due: for every category a row just past its deadline goes and a row
just before it stays; the run is audited with counts only; the sign-in log's addresses are truncated."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bridge.store.db import utcnow
from bridge.runtime.media_storage import MEDIA, media_key, media_storage
from bridge.store.models import Actor, Job, JobState, Media, MediaState, Post, PostState
from bridge.privacy.rights import run_retention, vault_for
from consent.audit import Action
from consent.models import AuditEntry, InboundSeen, RemoteActor, Reply, Subject
from consent.models_privacy import SecurityEvent
from consent.replies import ReplyFacts, store_reply
from consent.securitylog import log_signin, truncate_address
from consent.subjects import ActorFacts, ensure_subject, remember_actor
from consent.followers import add_follower

SECOND = timedelta(seconds=1)


def test_addresses_are_truncated_to_a_20_and_a_44():
    assert truncate_address("203.0.113.77") == "203.0.112.0/20"
    assert truncate_address("2001:db8:abcd:1234:5678::1") == "2001:db8:abc0::/44"
    assert truncate_address("::ffff:198.51.100.9") == "198.51.96.0/20"
    assert truncate_address("not an address") is None


async def test_each_category_loses_exactly_what_is_past_its_deadline(sessions_only, config):
    vault, now = vault_for(config), utcnow()
    days = config.retention
    async with sessions_only.begin() as session:
        person = await ensure_subject(session, vault, "https://mastodon.test/users/erin")
        platform_person = await ensure_subject(session, vault, "telegram:4711", kind="telegram")
        replies = {
            "old": (person, now - timedelta(days=days.replies_days) - SECOND, timedelta(days=999)),
            "young": (person, now - timedelta(days=days.replies_days) + SECOND, timedelta(days=999)),
            "deadline_passed": (person, now - timedelta(days=10), timedelta(days=10) - SECOND),
            "deadline_ahead": (person, now - timedelta(days=10), timedelta(days=10) + SECOND),
            "platform_old": (platform_person, now - timedelta(days=days.platform_replies_days) - SECOND,
                             timedelta(days=999)),
            "platform_young": (platform_person, now - timedelta(days=days.platform_replies_days) + SECOND,
                               timedelta(days=999)),
        }
        for name, (subject, received, keep) in replies.items():
            await store_reply(session, vault, subject, ReplyFacts(f"https://x.test/{name}", "stadt", None,
                                                                  f"<p>{name}</p>"), keep, received)
        for label, age in (("gone", days.inactive_people_days), ("fresh", days.inactive_people_days - 1)):
            left = await remember_actor(session, vault, ActorFacts(f"https://x.test/users/{label}", "https://x.test/i"))
            (await session.get(RemoteActor, left.id)).fetched_at = now - timedelta(days=age) - SECOND
        follower = await remember_actor(session, vault, ActorFacts("https://x.test/users/stays", "https://x.test/i"))
        await add_follower(session, vault, follower, "stadt", "https://x.test/f/1")
        (await session.get(RemoteActor, follower.id)).fetched_at = now - timedelta(days=400)
        for label, offset in (("old", -SECOND), ("young", SECOND)):
            session.add(InboundSeen(id_hash=f"seen-{label}", seen_at=now - timedelta(days=days.inbound_dedupe_days) + offset))
            for kind, age in (("address", days.security_addresses_days), ("log", days.security_log_days)):
                log_signin(session, f"{kind}-{label}", "203.0.113.77", None, now - timedelta(days=age) + offset)
            session.add(Job(kind="x", payload={"inbox": "https://x.test/i"}, state=JobState.DONE,
                            finished_at=now - timedelta(days=days.finished_jobs_days) + offset))
        session.add(Job(kind="x", payload={}, state=JobState.QUEUED, run_at=now - timedelta(days=99)))

    async with sessions_only.begin() as session:
        counts = await run_retention(session, vault, config, ("system", "system"), now)
    assert counts["replies"] == 2 and counts["platform_replies"] == 1
    assert counts["inactive_people"] == 1 and counts["inbound_dedupe"] == 1 and counts["finished_jobs"] == 1
    async with sessions_only() as session:
        left = [vault.open(await session.get(Subject, r.subject_id), "reply.content", r.enc_content)
                for r in (await session.scalars(select(Reply).order_by(Reply.id))).all()]
        assert left == ["<p>young</p>", "<p>deadline_ahead</p>", "<p>platform_young</p>"]
        gone = await session.scalar(select(Subject).join(RemoteActor, isouter=True).where(
            Subject.pseudonym == vault.pseudonym("https://x.test/users/gone")))
        assert gone.wrapped_key is None and await session.get(RemoteActor, gone.id) is None
        for label in ("fresh", "stays"):
            kept = await session.scalar(select(Subject).where(Subject.pseudonym == vault.pseudonym(f"https://x.test/users/{label}")))
            assert kept.wrapped_key is not None, label
        events = {e.kind: e for e in (await session.scalars(select(SecurityEvent))).all()}
        assert events["address-old"].address == "203.0.112.0/20" and events["address-old"].truncated
        assert events["address-young"].address == "203.0.113.77" and not events["address-young"].truncated
        assert "log-old" not in events and events["log-young"].address == "203.0.112.0/20"
        assert await session.scalar(select(func.count()).select_from(Job).where(Job.kind == "x")) == 2
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == str(Action.RETENTION_PURGED)))
    assert entry.details == counts and entry.purpose == "accountability"


async def test_images_nobody_can_use_leave_the_database_and_the_disk_after_a_day(sessions_only, config):
    vault, now, folder = vault_for(config), utcnow(), config.instance.data_dir / MEDIA
    day = timedelta(days=1)
    async with sessions_only.begin() as session:
        actor_id = await session.scalar(select(Actor.id).where(Actor.name == "stadt"))
        posts = {label: Post(actor_id=actor_id, state=state, text=label, language="de", deleted_at=deleted)
                 for label, state, deleted in (("live", PostState.PUBLISHED, None),
                                               ("deleted_long_ago", PostState.DELETED, now - day - SECOND),
                                               ("deleted_just_now", PostState.DELETED, now - day + SECOND))}
        session.add_all(posts.values())
        await session.flush()
        images = {"live": (posts["live"].id, now - 9 * day), "deleted_long_ago": (posts["deleted_long_ago"].id, now),
                  "deleted_just_now": (posts["deleted_just_now"].id, now),
                  "abandoned": (None, now - day - SECOND), "being_written": (None, now - day + SECOND)}
        for label, (post_id, created) in images.items():
            await media_storage(config).put(media_key(f"{label}.png"), b"png", "image/png")
            session.add(Media(actor_id=actor_id, post_id=post_id, filename=f"{label}.png", mime_type="image/png",
                              width=1, height=1, size=3, created_at=created))

    async with sessions_only.begin() as session:
        counts = await run_retention(session, vault, config, ("system", "system"), now)
    assert counts["unattached_media"] == 1 and counts["deleted_posts_media"] == 1
    async with sessions_only() as session:
        kept = sorted((await session.scalars(select(Media.filename))).all())
    assert kept == ["being_written.png", "deleted_just_now.png", "live.png"]
    assert sorted(p.name for p in folder.iterdir()) == kept


async def test_the_raw_upload_of_a_video_never_converted_leaves_with_its_row(sessions_only, config):
    """A worker that crashed for good between conversion and cleanup, or a video never used: its raw file goes
    with the unused upload after a day, like any other file of the row."""
    vault, now, folder = vault_for(config), utcnow(), config.instance.data_dir / MEDIA
    async with sessions_only.begin() as session:
        actor_id = await session.scalar(select(Actor.id).where(Actor.name == "stadt"))
        await media_storage(config).put(media_key("stuck.upload"), b"raw", "application/octet-stream")
        session.add(Media(actor_id=actor_id, filename="stuck.mp4", mime_type="video/mp4", width=1, height=1, size=3,
                          state=MediaState.PROCESSING, raw_filename="stuck.upload",
                          created_at=now - timedelta(days=1, seconds=1)))
    async with sessions_only.begin() as session:
        counts = await run_retention(session, vault, config, ("system", "system"), now)
    assert counts["unattached_media"] == 1 and not (folder / "stuck.upload").exists()
