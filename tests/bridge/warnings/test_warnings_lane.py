"""Official warnings become pinned posts at a remote follower's server, are edited with each Update and lifted
(edited and unpinned) with the Cancel — from the fake NINA, DWD, CAP and PEGELONLINE sources, which change
between polls; repeated polls and restarts never double anything."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bridge.appkeys import CONFIG, SESSIONS
from bridge.publishing.posts import approve_post, content_sha256
from bridge.store.models import Job, Post, Role
from bridge.store.warnings import OfficialWarning, WarningSourceState
from bridge.warnings import polls
from bridge.warnings.reasons import WarningReason
from consent.models import AuditEntry
from fakes.fediverse import mastodon_follow
from fakes.warnings import source_tables
from testkit import add_user
from support.inbox import CITY, instances, network, note_uri, run_jobs, stadt  # noqa: F401


async def poll(stadt, source_id: str) -> polls.PollResult:
    config = stadt.app[CONFIG]
    async with stadt.app[SESSIONS]() as session:
        return await polls.poll_job(config, session, {"source": source_id})


async def follower(stadt, instances):
    mastodon = await instances("mastodon.test")
    alice = mastodon.add_actor("alice")
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice))[0] == 202
    await run_jobs(stadt)
    mastodon.received.clear()
    return mastodon


def received(instance) -> list[tuple[str, str]]:
    found = []
    for r in instance.received:
        obj = r.json["object"]
        found.append((r.json["type"], obj["id"] if isinstance(obj, dict) else obj))
    instance.received.clear()
    return found


async def posts(stadt) -> list[Post]:
    async with stadt.app[SESSIONS]() as session:
        return list((await session.scalars(select(Post).order_by(Post.id))).all())


async def test_nina_alert_update_cancel_reach_a_follower_as_post_edit_and_unpin(stadt, instances, sources):
    mastodon = await follower(stadt, instances)
    sources.show("nina", "nina_storm_1.json")
    first = await poll(stadt, "nina")
    assert first.reason is WarningReason.POLLED and first.actions == {"posted": 1}
    async with stadt.app[SESSIONS]() as session:  # the fan-out and the pin overtake routine jobs
        assert {j.priority for j in (await session.scalars(select(Job).where(Job.post_id.is_not(None)))).all()} == {0}
    await run_jobs(stadt)
    async with stadt.app[SESSIONS]() as session:  # and so do the deliveries the fan-out created
        delivered = (await session.scalars(select(Job).where(Job.kind == "deliver"))).all()
    assert delivered and {j.priority for j in delivered} == {0}
    [post] = await posts(stadt)
    assert post.pinned and post.state == "published"
    assert received(mastodon) == [("Create", note_uri(post.id)), ("Add", note_uri(post.id))]
    assert post.text.startswith("Unwetterwarnung: Sturmflut an der Wesermündung – Bremerhaven")
    assert "Handlungsempfehlungen: Meiden Sie die Uferbereiche" in post.text and "#Sturmflut" in post.text
    assert "Gültig ab 04.12.2026, 20:00 Uhr bis 05.12.2030, 06:00 Uhr" in post.text  # local time (Berlin)
    assert "Quelle: Seestadt Bremerhaven – Feuerwehr" in post.text and "/warnings/" in post.text

    again = await poll(stadt, "nina")  # the same dashboard: 304 with our ETag, nothing new
    assert again.reason is WarningReason.NOT_MODIFIED and len(await posts(stadt)) == 1
    assert sources.requests[-1][1].get("If-None-Match")

    sources.show("nina", "nina_storm_2.json")
    update = await poll(stadt, "nina")
    assert update.actions == {"updated": 1}
    await run_jobs(stadt)
    [post] = await posts(stadt)
    assert post.text.startswith("Extreme Unwetterwarnung: Schwere Sturmflut") and post.pinned
    [(kind, note)] = received(mastodon)
    assert (kind, note) == ("Update", note_uri(post.id))

    sources.show("nina", "nina_storm_3.json")
    cancel = await poll(stadt, "nina")
    assert cancel.actions == {"lifted": 1}
    await run_jobs(stadt)
    [post] = await posts(stadt)
    assert post.text.startswith("Entwarnung: Schwere Sturmflut") and not post.pinned
    assert received(mastodon) == [("Update", note_uri(post.id)), ("Remove", note_uri(post.id))]
    async with stadt.app[SESSIONS]() as session:
        warning = await session.scalar(select(OfficialWarning))
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "warning.imported"))).all()
    assert warning.state == "lifted" and warning.msg_type == "Cancel"
    assert [(a.reason, a.details["identifier"][-3:]) for a in audit] == [
        ("posted", "000"), ("updated", "001"), ("lifted", "002")]
    assert all(a.actor_ref == "system:warnings" for a in audit)


async def test_repeated_polls_and_a_restart_never_double_a_post(stadt, sources, make_config):
    sources.show("nina", "nina_storm_1.json")
    await poll(stadt, "nina")
    async with stadt.app[SESSIONS]() as session:  # a restart: the validators are gone, the messages known
        state = await session.get(WarningSourceState, "nina")
        state.etag = None
        await session.commit()
    again = await poll(stadt, "nina")
    assert again.actions == {"seen": 1} and len(await posts(stadt)) == 1


async def test_two_workers_polling_at_once_post_once(stadt, sources):
    sources.show("cap", "cap_flood_1.xml")
    config = stadt.app[CONFIG]
    source = next(s for s in config.warnings if s.id == "kreis")

    async def one():
        async with stadt.app[SESSIONS]() as session:
            return await polls.poll_and_commit(config, session, source)

    results = await asyncio.gather(one(), one())
    assert len(await posts(stadt)) == 1
    assert sorted(str(r.reason) for r in results) in (["concurrent", "polled"], ["polled", "polled"])
    async with stadt.app[SESSIONS]() as session:
        assert await session.scalar(select(func.count()).select_from(OfficialWarning)) == 1


async def test_dwd_snapshot_keeps_to_the_warn_cells_and_the_minimum_severity(stadt, instances, sources):
    mastodon = await follower(stadt, instances)
    sources.show("dwd", "dwd_wind_1.xml", "dwd_elsewhere_1.xml")
    first = await poll(stadt, "dwd")
    assert first.actions == {"posted": 1}
    await run_jobs(stadt)
    create = next(r.json for r in mastodon.received if r.json["type"] == "Create")
    content_map = create["object"]["contentMap"]  # the English of the DWD's message beside the German
    assert set(content_map) == {"de", "en"} and "Official WARNING of SEVERE GUSTS" in content_map["en"]
    async with stadt.app[SESSIONS]() as session:
        warning = await session.scalar(select(OfficialWarning))
    assert warning.event == "ORKANARTIGE BÖEN" and [i["language"] for i in warning.fields["infos"]] == ["de-DE", "en-GB"]
    [post] = await posts(stadt)
    assert "#OrkanartigeBöen" in post.text
    assert post.translations["en"].startswith("Severe warning: Official WARNING of SEVERE GUSTS")
    assert "There is a risk of severe gusts" in post.translations["en"]
    assert "Valid from 04 Dec 2026, 18:00 until 05 Dec 2030, 06:00" in post.translations["en"]
    sources.show("dwd", "dwd_wind_2.xml")  # the Update; the Alert is no longer listed, which is no lifting
    assert (await poll(stadt, "dwd")).actions == {"updated": 1}
    sources.show("dwd")  # the snapshot is empty: the warning ended without a Cancel
    assert (await poll(stadt, "dwd")).actions == {"lifted": 1}
    [post] = await posts(stadt)
    assert post.text.startswith("Entwarnung") and not post.pinned


async def test_a_county_cap_feed_with_an_all_clear_update(stadt, sources):
    sources.show("cap", "cap_flood_1.xml")
    assert (await poll(stadt, "kreis")).actions == {"posted": 1}
    sources.show("cap", "cap_flood_1.xml", "cap_flood_2.xml")
    assert (await poll(stadt, "kreis")).actions == {"seen": 1, "updated": 1}
    sources.show("cap", "cap_flood_3.xml")
    assert (await poll(stadt, "kreis")).actions == {"lifted": 1}
    [post] = await posts(stadt)
    assert "Hochwasser an der Geeste steigt weiter" in post.text and post.text.startswith("Entwarnung")


async def test_a_gauge_crossing_levels_raises_updates_and_clears_a_warning(stadt, sources):
    sources.show("pegel", "pegelonline_level_1.json")  # 612 cm: below every level
    assert (await poll(stadt, "pegel")).actions == {}
    sources.show("pegel", "pegelonline_level_2.json")  # 812 cm: Moderate
    assert (await poll(stadt, "pegel")).actions == {"posted": 1}
    assert (await poll(stadt, "pegel")).actions == {}  # the same reading again
    sources.show("pegel", "pegelonline_level_3.json")  # 905 cm: Severe
    assert (await poll(stadt, "pegel")).actions == {"updated": 1}
    sources.show("pegel", "pegelonline_level_4.json")  # 640 cm: fallen below
    assert (await poll(stadt, "pegel")).actions == {"lifted": 1}
    [post] = await posts(stadt)
    assert "BREMERHAVEN" in post.text.upper() and not post.pinned and post.text.startswith("Entwarnung")


async def test_draft_mode_holds_the_post_for_approval_and_pins_it_once_published(make_config, sources,
                                                                                  sessions_only, test_password_hash):
    config = make_config(warnings=source_tables(sources.base, kreis={"mode": "draft"}))
    sources.show("cap", "cap_flood_1.xml")
    async with sessions_only() as session:
        result = await polls.poll_job(config, session, {"source": "kreis"})
    assert result.actions == {"held": 1}
    async with sessions_only() as session:
        post = await session.scalar(select(Post))
        assert post.state == "awaiting_approval" and not post.pinned
        editor = await add_user(session, "erika", Role.EDITOR, ["stadt"], test_password_hash)
        assert (await approve_post(session, config, editor, post, content_sha256(post))).ok
        await session.commit()
        await polls.poll_job(config, session, {"source": "kreis"})
    async with sessions_only() as session:
        post = await session.scalar(select(Post))
        warning = await session.scalar(select(OfficialWarning))
    assert post.state == "published" and post.pinned and warning.state == "active"
