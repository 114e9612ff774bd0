"""Scenarios of the send machinery with Facebook, Instagram, Threads, LinkedIn and X: each post reaches
each platform once, whatever goes wrong; what a platform cannot do reaches the editor as a reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bridge.platforms import sends as mirroring
from bridge.store.platforms import AccountStatus, SendState
from consent.models import AuditEntry, Reply
from support.mirroring import ALL, post_with_image, start_more
from fakes.linkedin import li_comment
from fakes.meta import fb_comment, ig_comment, threads_reply
from fakes.x import x_reply

TEXT_PLATFORMS = ("fb", "th", "li", "x")


@pytest.fixture
async def bridge(make_config, sessions_only, aiohttp_server, test_password_hash):
    bridge, closing = await start_more(make_config, sessions_only, aiohttp_server, test_password_hash)
    yield bridge
    for federation in closing:
        await federation.close()


def published(bridge) -> dict[str, int]:
    f = bridge.fakes
    return {"fb": len(f["fb"].posts), "ig": len(f["ig"].media), "th": len(f["th"].media), "li": len(f["li"].posts),
            "x": len(f["x"].tweets)}


async def test_a_post_with_an_image_reaches_each_platform_once_and_each_send_is_a_transfer_entry(bridge):
    post_id = await post_with_image(bridge, "Neuer Spielplatz im Stadtpark #Familie", "Kinder auf der Rutsche")
    await bridge.run()
    for platform_id in ALL:
        row = await bridge.send(post_id, platform_id)
        assert row.state == SendState.SENT and row.remote_id, (platform_id, row.reason, row.detail)
    assert published(bridge) == {p: 1 for p in ALL}
    ig = bridge.fakes["ig"]
    container = next(iter(ig.containers.values()))
    assert container["alt_text"] == "Kinder auf der Rutsche" and "/media/" in container["image_url"]
    async with bridge.sessions() as s:
        transfers = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "platform.transfer"))).all()
    assert sorted(t.details["platform"] for t in transfers) == sorted(ALL)
    await bridge.run()
    assert published(bridge) == {p: 1 for p in ALL}


async def test_a_text_only_post_is_skipped_on_instagram_with_its_reason(bridge):
    post_id = await bridge.post("Nur Text, kein Bild", mirrors=ALL)
    await bridge.run()
    row = await bridge.send(post_id, "ig")
    assert row.state == SendState.FAILED and row.reason == "image_required"
    assert not bridge.fakes["ig"].containers
    for platform_id in TEXT_PLATFORMS:
        assert (await bridge.send(post_id, platform_id)).state == SendState.SENT


async def test_unknown_outcomes_are_reconciled_with_the_platforms_handles_without_a_duplicate(bridge):
    for platform_id in ("fb", "ig", "li"):
        bridge.fakes[platform_id].mode = "timeout_after_write"
    bridge.fakes["th"].mode = "500_after_write"
    post_id = await post_with_image(bridge, "Stromausfall in der Altstadt", "Dunkle Straße", mirrors=("fb", "ig", "th", "li"))
    await bridge.run()
    for platform_id in ("fb", "ig", "th", "li"):
        assert (await bridge.send(post_id, platform_id)).state == SendState.UNKNOWN, platform_id
    await bridge.make_due(mirroring.SEND_JOB)
    await bridge.run()
    for platform_id in ("fb", "ig", "th", "li"):
        row = await bridge.send(post_id, platform_id)
        assert row.state == SendState.SENT and row.remote_id, (platform_id, row.reason, row.detail)
    assert published(bridge) == {"fb": 1, "ig": 1, "th": 1, "li": 1, "x": 0}


async def test_an_x_timeout_is_left_to_the_editor_and_never_sent_again_blindly(bridge):
    bridge.fakes["x"].mode = "timeout_after_write"
    post_id = await bridge.post("Sirenentest um 11 Uhr", mirrors=("x",))
    await bridge.run()
    await bridge.make_due(mirroring.SEND_JOB)
    await bridge.run()
    row = await bridge.send(post_id, "x")
    assert row.state == SendState.UNKNOWN and bridge.fakes["x"].calls.count("POST tweets") == 1
    async with bridge.sessions.begin() as s:
        assert await mirroring.decide(s, post_id, "x", mirroring.Decision.MARK_SENT, "editor", "user:1")
    assert (await bridge.send(post_id, "x")).state == SendState.SENT


async def test_a_rate_limit_pauses_only_that_platform(bridge):
    bridge.fakes["fb"].mode = "429"
    post_id = await bridge.post("Weihnachtsmarkt eröffnet", mirrors=TEXT_PLATFORMS)
    await bridge.run()
    assert (await bridge.send(post_id, "fb")).state == SendState.QUEUED
    paused = (await bridge.account("fb")).paused_until
    assert paused is not None and (paused - bridge.clock()).total_seconds() == 17 * 60
    for platform_id in ("th", "li", "x"):
        assert (await bridge.send(post_id, platform_id)).state == SendState.SENT
    assert not bridge.fakes["fb"].posts


async def test_a_refused_token_means_reconnect_needed_without_a_retry_storm(bridge):
    bridge.fakes["li"].tokens = {"rotated"}
    bridge.fakes["th"].mode = "expired"
    first = await bridge.post("Eins", mirrors=("li", "th"))
    await bridge.run()
    for platform_id in ("li", "th"):
        row = await bridge.send(first, platform_id)
        assert row.state == SendState.FAILED and row.reason == "invalid_credentials", platform_id
        assert (await bridge.account(platform_id)).status == AccountStatus.RECONNECT_NEEDED
    calls = len(bridge.fakes["li"].calls)
    second = await bridge.post("Zwei", mirrors=("li",))
    await bridge.run()
    assert (await bridge.send(second, "li")).reason == "invalid_credentials"
    assert len(bridge.fakes["li"].calls) == calls


async def test_edits_and_deletes_follow_where_the_platform_allows_and_say_why_elsewhere(bridge):
    post_id = await post_with_image(bridge, "Sperrung Brückenstraße", "Absperrung")
    await bridge.run()
    await bridge.edit(post_id, "Sperrung Brückenstraße aufgehoben (seit 10 Uhr)")
    await bridge.run()
    fb, li = await bridge.send(post_id, "fb"), await bridge.send(post_id, "li")
    assert bridge.fakes["fb"].posts[fb.remote_id]["message"] == "Sperrung Brückenstraße aufgehoben (seit 10 Uhr)"
    assert bridge.fakes["li"].posts[li.remote_id]["commentary"] == "Sperrung Brückenstraße aufgehoben \\(seit 10 Uhr\\)"
    for platform_id in ("ig", "th", "x"):
        row = await bridge.send(post_id, platform_id)
        assert row.state == SendState.SENT and row.reason == "edit_unsupported", platform_id
    await bridge.delete(post_id)
    await bridge.run()
    for platform_id in ("fb", "th", "li", "x"):
        assert (await bridge.send(post_id, platform_id)).state == SendState.DELETED, platform_id
    ig = await bridge.send(post_id, "ig")
    assert ig.state == SendState.MANUAL and "Instagram app" in ig.detail
    assert published(bridge) == {"fb": 0, "ig": 1, "th": 0, "li": 0, "x": 0}


async def test_replies_from_five_platforms_land_in_the_consent_store_and_deletions_erase_them(bridge):
    post_id = await post_with_image(bridge, "Wie gefällt Ihnen der neue Platz?", "Platz")
    await bridge.run()
    remote = {p: (await bridge.send(post_id, p)).remote_id for p in ALL}
    f = bridge.fakes
    f["fb"].comments[remote["fb"]] = [fb_comment(1, "Schön"), fb_comment(2, "#nobot nein", user="9003")]
    f["ig"].comments[remote["ig"]] = [ig_comment(1, "Toll")]
    f["th"].comments[remote["th"]] = [threads_reply(1, "Gut"), threads_reply(2, "privat", username=None)]
    f["li"].comments[remote["li"]] = [li_comment(1, remote["li"], "Prima")]
    f["x"].replies = [x_reply(1, remote["x"], "Endlich")]
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    async with bridge.sessions() as s:
        stored = (await s.scalars(select(Reply))).all()
    assert sorted(r.signals["platform"] for r in stored) == sorted(ALL)
    assert all(r.post_id == post_id and r.state == "pending" for r in stored)
    f["fb"].comments[remote["fb"]] = []  # deleted on Facebook: the complete listing no longer has it
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    async with bridge.sessions() as s:
        left = (await s.scalars(select(Reply))).all()
    assert sorted(r.signals["platform"] for r in left) == ["ig", "li", "th", "x"]
