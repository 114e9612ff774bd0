"""Scenarios of the send machinery: a published post reaches each platform once, whatever goes wrong."""

from __future__ import annotations

from sqlalchemy import select, update

from bridge.platforms import sends as mirroring
from bridge.store.models import Job, JobState
from bridge.store.platforms import AccountStatus, PlatformAccount, SendState
from consent.models import AuditEntry
from support.mirroring import bridge  # noqa: F401  (fixture)


async def test_a_published_post_reaches_each_platform_once_and_every_send_is_a_transfer_entry(bridge):
    post_id = await bridge.post("Die Bibliothek öffnet am Samstag. #Bibliothek")
    await bridge.run()
    for platform_id in ("bsky", "masto", "tg"):
        row = await bridge.send(post_id, platform_id)
        assert row.state == SendState.SENT and row.remote_id, (platform_id, row.reason, row.detail)
    assert len(bridge.bluesky.records) == len(bridge.mastodon.statuses) == len(bridge.telegram.messages) == 1
    async with bridge.sessions() as s:
        transfers = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "platform.transfer"))).all()
    assert sorted(t.details["platform"] for t in transfers) == ["bsky", "masto", "tg"]
    assert all(t.details["post_id"] == str(post_id) and t.details["country"] == "US"
               and t.details["mechanism"] == "SCC" and t.details["recipient"] for t in transfers)
    await bridge.run()  # nothing is sent twice
    assert len(bridge.mastodon.statuses) == 1


async def test_a_telegram_timeout_is_unknown_never_retried_blindly_and_the_editor_decides(bridge):
    bridge.telegram.mode = "timeout_after_write"
    post_id = await bridge.post("Hochwasserwarnung", mirrors=("tg",))
    await bridge.run()
    row = await bridge.send(post_id, "tg")
    assert row.state == SendState.UNKNOWN and row.reason == "timeout"
    await bridge.make_due(mirroring.SEND_JOB)
    await bridge.run()
    assert len(bridge.telegram.messages) == 1  # it was there all along: no second copy
    async with bridge.sessions.begin() as s:
        assert await mirroring.decide(s, post_id, "tg", mirroring.Decision.MARK_SENT, "editor", "user:1")
    assert (await bridge.send(post_id, "tg")).state == SendState.SENT


async def test_an_editor_may_send_again_after_checking_that_nothing_arrived(bridge):
    bridge.telegram.mode = "timeout_after_write"
    post_id = await bridge.post("Sirenentest", mirrors=("tg",))
    await bridge.run()
    bridge.telegram.messages.clear()  # the editor looked: the channel has no such message
    async with bridge.sessions.begin() as s:
        assert await mirroring.decide(s, post_id, "tg", mirroring.Decision.RETRY, "editor", "user:1")
    await bridge.run()
    assert (await bridge.send(post_id, "tg")).state == SendState.SENT and len(bridge.telegram.messages) == 1


async def test_a_mastodon_timeout_is_reconciled_with_the_idempotency_key_without_a_duplicate(bridge):
    bridge.mastodon.mode = "timeout_after_write"
    post_id = await bridge.post("Müllabfuhr verschiebt sich", mirrors=("masto",))
    await bridge.run()
    assert (await bridge.send(post_id, "masto")).state == SendState.UNKNOWN
    await bridge.make_due(mirroring.SEND_JOB)
    await bridge.run()
    row = await bridge.send(post_id, "masto")
    assert row.state == SendState.SENT and len(bridge.mastodon.statuses) == 1


async def test_a_crash_while_sending_is_reconciled_before_anything_is_sent_again(bridge):
    post_id = await bridge.post("Stadtratssitzung", mirrors=("bsky",))
    await bridge.run()
    first = await bridge.send(post_id, "bsky")
    async with bridge.sessions.begin() as s:  # as if the worker died after the request left
        row = await s.get(type(first), first.id)
        row.state = SendState.SENDING
        await mirroring._enqueue(s, post_id, "bsky", mirroring.Change.PUBLISH)
    await bridge.run()
    assert (await bridge.send(post_id, "bsky")).state == SendState.SENT
    assert bridge.bluesky.calls.count("createRecord") == 1 and len(bridge.bluesky.records) == 1


async def test_a_crash_while_sending_then_an_outage_while_reconciling_never_sends_twice(bridge):
    """The reconciling request cannot leave: the send may still be there, so it is never queued as unsent."""
    post_id = await bridge.post("Baustelle Hauptstraße", mirrors=("bsky",))
    await bridge.run()
    first = await bridge.send(post_id, "bsky")
    async with bridge.sessions.begin() as s:  # as if the worker died after the request left
        row = await s.get(type(first), first.id)
        row.state = SendState.SENDING
        await mirroring._enqueue(s, post_id, "bsky", mirroring.Change.PUBLISH)
    bridge.bluesky.down = True  # the PDS answers 503 to the reconciling request
    await bridge.run()
    assert any(c.startswith("503") for c in bridge.bluesky.calls), "the reconciling request was made"
    assert (await bridge.send(post_id, "bsky")).state == SendState.SENDING, "still: it may be there"
    bridge.bluesky.down = False
    await bridge.make_due(mirroring.SEND_JOB)
    await bridge.run()
    assert (await bridge.send(post_id, "bsky")).state == SendState.SENT
    assert bridge.bluesky.calls.count("createRecord") == 1 and len(bridge.bluesky.records) == 1


async def test_a_rate_limit_pauses_only_that_platform(bridge):
    bridge.bluesky.mode = "429"
    post_id = await bridge.post("Weihnachtsmarkt eröffnet")
    await bridge.run()
    assert (await bridge.send(post_id, "bsky")).state == SendState.QUEUED
    assert (await bridge.account("bsky")).paused_until is not None
    assert (await bridge.send(post_id, "masto")).state == SendState.SENT
    assert (await bridge.send(post_id, "tg")).state == SendState.SENT
    second = await bridge.post("Zweiter Beitrag")
    await bridge.run()
    assert (await bridge.send(second, "bsky")).state == SendState.QUEUED  # waits for the pause too
    assert bridge.bluesky.calls.count("createRecord") == 1
    async with bridge.sessions() as s:
        waiting = (await s.scalars(select(Job).where(Job.kind == mirroring.SEND_JOB, Job.state == JobState.QUEUED))).all()
    assert len(waiting) == 2 and all(j.run_at > bridge.clock() for j in waiting)


async def test_a_refused_token_means_reconnect_needed_without_a_retry_storm(bridge):
    bridge.mastodon.token = "rotated"
    first = await bridge.post("Eins", mirrors=("masto",))
    await bridge.run()
    row = await bridge.send(first, "masto")
    assert row.state == SendState.FAILED and row.reason == "invalid_credentials"
    assert "invalid" in row.detail
    assert (await bridge.account("masto")).status == AccountStatus.RECONNECT_NEEDED
    calls = len(bridge.mastodon.calls)
    second = await bridge.post("Zwei", mirrors=("masto",))
    await bridge.run()
    assert (await bridge.send(second, "masto")).reason == "invalid_credentials"
    assert len(bridge.mastodon.calls) == calls  # the platform is not asked again
    async with bridge.sessions() as s:
        entries = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "platform.reconnect_needed"))).all()
    assert len(entries) == 1


async def test_edits_and_deletes_follow_the_post_where_the_platform_allows(bridge):
    post_id = await bridge.post("Sperrung Brückenstraße")
    await bridge.run()
    await bridge.edit(post_id, "Sperrung Brückenstraße aufgehoben")
    await bridge.run()
    masto = await bridge.send(post_id, "masto")
    assert bridge.mastodon.statuses[masto.remote_id]["content"] == "Sperrung Brückenstraße aufgehoben"
    tg = await bridge.send(post_id, "tg")
    assert bridge.telegram.messages[int(tg.remote_id)]["text"] == "Sperrung Brückenstraße aufgehoben"
    bsky = await bridge.send(post_id, "bsky")
    assert bsky.state == SendState.SENT and bsky.reason == "edit_unsupported"
    await bridge.delete(post_id)
    await bridge.run()
    for platform_id in ("bsky", "masto", "tg"):
        assert (await bridge.send(post_id, platform_id)).state == SendState.DELETED
    assert not bridge.bluesky.records and not bridge.mastodon.statuses and not bridge.telegram.messages


async def test_a_telegram_message_older_than_48_hours_must_be_removed_by_hand(bridge):
    post_id = await bridge.post("Alte Meldung", mirrors=("tg",))
    await bridge.run()
    bridge.clock.advance(hours=49)
    await bridge.delete(post_id)
    await bridge.run()
    row = await bridge.send(post_id, "tg")
    assert row.state == SendState.MANUAL and row.reason == "delete_too_late"
    assert len(bridge.telegram.messages) == 1


async def test_a_post_deleted_before_it_went_out_is_never_sent(bridge):
    post_id = await bridge.post("Zurückgezogen", mirrors=("masto",))
    await bridge.delete(post_id)
    await bridge.run()
    assert (await bridge.send(post_id, "masto")).state == SendState.CANCELLED
    assert not bridge.mastodon.statuses


async def test_a_platform_answering_garbage_gets_a_reason_and_others_are_unaffected(bridge):
    bridge.bluesky.mode = "malformed"
    post_id = await bridge.post("Neue Öffnungszeiten")
    await bridge.run()
    row = await bridge.send(post_id, "bsky")
    assert row.state == SendState.UNKNOWN and row.reason == "malformed_response"
    assert (await bridge.send(post_id, "masto")).state == SendState.SENT
    await bridge.make_due(mirroring.SEND_JOB)
    await bridge.run()  # reconciled by the record key: nothing was written, so it is sent now
    assert (await bridge.send(post_id, "bsky")).state == SendState.SENT and len(bridge.bluesky.records) == 1


async def test_an_unknown_send_stays_unknown_when_reconciling_is_rate_limited(bridge):
    bridge.mastodon.mode = "timeout_after_write"
    post_id = await bridge.post("Straßenfest am Sonntag", mirrors=("masto",))
    await bridge.run()
    assert (await bridge.send(post_id, "masto")).state == SendState.UNKNOWN
    bridge.mastodon.mode = "429"
    await bridge.make_due(mirroring.SEND_JOB)
    await bridge.run()
    assert (await bridge.send(post_id, "masto")).state == SendState.UNKNOWN  # never back to "queued"
    async with bridge.sessions.begin() as s:  # the pause is over
        await s.execute(update(PlatformAccount).where(PlatformAccount.platform_id == "masto").values(paused_until=None))
    await bridge.make_due(mirroring.SEND_JOB)
    await bridge.run()
    assert (await bridge.send(post_id, "masto")).state == SendState.SENT
    assert len(bridge.mastodon.statuses) == 1
