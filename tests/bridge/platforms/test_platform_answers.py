"""Answering replies collected from platforms, through the worker and the platform fakes over a real database:
each answer reaches its platform once, threaded, with the transfer-log entry; unknown outcomes never make a
second answer; an account that needs reconnecting keeps the answer as a draft until it works again."""

from __future__ import annotations

from sqlalchemy import select, update

from bridge.platforms import answers, sends as mirroring
from bridge.platforms.health import check_account
from bridge.store.db import utcnow
from bridge.store.dialogue import Handling, ReplyHandling
from bridge.store.models import Job, JobState
from bridge.store.platforms import AccountStatus, AnswerState, PlatformAccount, PlatformAnswer
from consent.models import AuditEntry, Reply
from fakes.linkedin import li_comment
from fakes.meta import fb_comment, ig_comment, threads_reply
from fakes.platform_servers import bsky_reply, mastodon_reply, telegram_comment
from fakes.x import x_reply
from support.mirroring import ALL, bridge, post_with_image, start_more  # noqa: F401  (fixture)


async def collected(bridge, post_id: int) -> dict[str, Reply]:
    """Runs backfeed now; the stored replies by platform account id."""
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    async with bridge.sessions() as s:
        rows = (await s.scalars(select(Reply).where(Reply.post_id == post_id))).all()
    return {r.signals["platform"]: r for r in rows}


async def answer(bridge, reply: Reply, text: str) -> answers.Started:
    async with bridge.sessions.begin() as s:
        row = await s.get(Reply, reply.id)
        return await answers.start_answer(s, bridge.config, row, text, "de", "user:1", utcnow())


async def answer_row(bridge, reply_id: int) -> PlatformAnswer:
    async with bridge.sessions() as s:
        return await s.scalar(select(PlatformAnswer).where(PlatformAnswer.reply_id == reply_id)
                              .order_by(PlatformAnswer.id.desc()))


async def test_replies_on_three_platforms_are_answered_there_threaded_with_transfer_entries(bridge):
    post_id = await bridge.post("Wie gefällt Ihnen der neue Spielplatz?")
    await bridge.run()
    bridge.bluesky.thread_replies = [bsky_reply("r1", "did:plc:anna", "Super!")]
    bridge.mastodon.descendants = [mastodon_reply(1, "Toll")]
    channel_id = int((await bridge.send(post_id, "tg")).remote_id)
    bridge.telegram.updates = [telegram_comment(1, channel_id, 77, "Endlich!")]
    replies = await collected(bridge, post_id)
    for platform_id, reply in replies.items():
        started = await answer(bridge, reply, f"Danke für Ihre Rückmeldung ({platform_id})")
        assert started.reason is answers.AnswerReason.QUEUED
    await bridge.run()
    for reply in replies.values():
        row = await answer_row(bridge, reply.id)
        assert row.state == AnswerState.SENT and row.remote_id, (row.platform_id, row.reason, row.detail)
    bsky_answer = next(r for r in bridge.bluesky.records.values() if "reply" in r)
    assert bsky_answer["reply"]["parent"]["uri"] == "at://did:plc:anna/app.bsky.feed.post/r1"
    assert bsky_answer["reply"]["root"]["uri"] == (await bridge.send(post_id, "bsky")).remote_id
    assert [s["in_reply_to_id"] for s in bridge.mastodon.statuses.values()] == [None, "1"]
    threaded = [m for m in bridge.telegram.messages.values() if m["reply_parameters"]]
    assert threaded[0]["chat_id"] == "-1001" and threaded[0]["reply_parameters"]["message_id"] == 901
    async with bridge.sessions() as s:
        transfers = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "platform.transfer"))).all()
        handled = (await s.scalars(select(ReplyHandling))).all()
    assert sorted(t.details["platform"] for t in transfers if t.details["action"] == "answer") == ["bsky", "masto", "tg"]
    assert len(handled) == 3 and all(h.state == Handling.ANSWERED and h.first_answer_at for h in handled)
    await bridge.run()  # nothing is answered twice
    assert len(bridge.mastodon.statuses) == 2


async def test_a_mastodon_timeout_is_reconciled_by_the_key_without_a_second_answer(bridge):
    post_id = await bridge.post("Sperrmüll", mirrors=("masto",))
    await bridge.run()
    bridge.mastodon.descendants = [mastodon_reply(1, "Wann?")]
    reply = (await collected(bridge, post_id))["masto"]
    bridge.mastodon.mode = "timeout_after_write"
    await answer(bridge, reply, "Am Montag.")
    await bridge.run()
    assert (await answer_row(bridge, reply.id)).state == AnswerState.UNKNOWN
    await bridge.make_due(answers.ANSWER_JOB)
    await bridge.run()
    assert (await answer_row(bridge, reply.id)).state == AnswerState.SENT
    assert len(bridge.mastodon.statuses) == 2  # the post and one answer


async def test_a_telegram_timeout_stays_unknown_until_the_editor_decides(bridge):
    post_id = await bridge.post("Sirenentest", mirrors=("tg",))
    await bridge.run()
    channel_id = int((await bridge.send(post_id, "tg")).remote_id)
    bridge.telegram.updates = [telegram_comment(1, channel_id, 77, "Warum so laut?")]
    reply = (await collected(bridge, post_id))["tg"]
    bridge.telegram.mode = "timeout_after_write"
    await answer(bridge, reply, "Es ist ein Test.")
    await bridge.run()
    await bridge.make_due(answers.ANSWER_JOB)
    await bridge.run()
    row = await answer_row(bridge, reply.id)
    assert row.state == AnswerState.UNKNOWN and row.reason == "undecidable"
    assert len(bridge.telegram.messages) == 2  # the post and the one answer: never sent again blindly
    async with bridge.sessions.begin() as s:
        assert await answers.decide_answer(s, await s.get(PlatformAnswer, row.id), answers.AnswerDecision.MARK_SENT,
                                           "editor", "user:1")
    assert (await answer_row(bridge, reply.id)).state == AnswerState.SENT


async def test_an_answer_while_the_account_needs_reconnecting_is_a_draft_sent_after_reconnection(bridge):
    post_id = await bridge.post("Bürgerbüro", mirrors=("masto",))
    await bridge.run()
    bridge.mastodon.descendants = [mastodon_reply(1, "Offen?")]
    reply = (await collected(bridge, post_id))["masto"]
    bridge.mastodon.token = "renewed"  # the token was revoked on the server
    await answer(bridge, reply, "Ja, bis 18 Uhr.")
    await bridge.run()
    row = await answer_row(bridge, reply.id)
    assert row.state == AnswerState.DRAFT and (await bridge.account("masto")).status == AccountStatus.RECONNECT_NEEDED
    second = await answer(bridge, reply, "Und samstags bis 12 Uhr.")
    assert second.reason is answers.AnswerReason.DRAFT_RECONNECT
    assert len(bridge.mastodon.statuses) == 1
    bridge.mastodon.token = "mastodon-token"  # an administrator reconnected the account
    platform = next(p for p in bridge.config.platforms if p.id == "masto")
    async with bridge.sessions() as s:
        result = await check_account(s, bridge.worker.ctx.federation, platform, utcnow, ("admin", "user:1"))
    assert result.outcome == "sent"
    await bridge.run()
    texts = sorted(s["content"] for s in bridge.mastodon.statuses.values() if s["in_reply_to_id"] == "1")
    assert texts == ["@anna1@social.example Ja, bis 18 Uhr.", "@anna1@social.example Und samstags bis 12 Uhr."]


async def test_refusals_are_reasons_and_nothing_is_sent(bridge):
    post_id = await bridge.post("Hallo", mirrors=("bsky",))
    await bridge.run()
    bridge.bluesky.thread_replies = [bsky_reply("r1", "did:plc:anna", "Hi")]
    reply = (await collected(bridge, post_id))["bsky"]
    assert (await answer(bridge, reply, "   ")).reason is answers.AnswerReason.EMPTY
    too_long = await answer(bridge, reply, "Wort " * 70)
    assert too_long.reason is answers.AnswerReason.TOO_LONG and too_long.limit == 300
    bridge.bluesky.thread_replies = []  # deleted on Bluesky before the answer went out
    await answer(bridge, reply, "Danke")
    await bridge.run()
    row = await answer_row(bridge, reply.id)
    assert row.state == AnswerState.FAILED and row.reason == "reply_gone"
    assert not any("reply" in r for r in bridge.bluesky.records.values())


async def test_fediverse_replies_are_not_platform_answers(bridge):
    async with bridge.sessions.begin() as s:
        fake = Reply(id=None, subject_id=1, object_hash="x", post_id=None, actor_name="stadt", enc_object_id=b"",
                     enc_content=b"", state="pending", signals={}, received_at=utcnow(), retain_until=utcnow())
        started = await answers.start_answer(s, bridge.config, fake, "Hallo", "de", "user:1", utcnow())
    assert started.reason is answers.AnswerReason.NOT_A_PLATFORM_REPLY and not started.ok


async def test_facebook_instagram_threads_linkedin_and_x_answers_reach_their_fakes(make_config, sessions_only,
                                                                                aiohttp_server, test_password_hash):
    bridge, closing = await start_more(make_config, sessions_only, aiohttp_server, test_password_hash)
    try:
        post_id = await post_with_image(bridge, "Neue Öffnungszeiten der Bibliothek", "Bibliothek von außen")
        await bridge.run()
        fakes = bridge.fakes
        remote = {p: (await bridge.send(post_id, p)).remote_id for p in ALL}
        fakes["fb"].comments[remote["fb"]] = [fb_comment(1, "Auch sonntags?")]
        fakes["ig"].comments[remote["ig"]] = [ig_comment(2, "Schön")]
        fakes["th"].comments[remote["th"]] = [threads_reply(3, "Super")]
        fakes["li"].comments[remote["li"]] = [li_comment(4, remote["li"], "Danke")]
        fakes["x"].replies = [x_reply(5, remote["x"], "Endlich")]
        replies = await collected(bridge, post_id)
        assert sorted(replies) == sorted(ALL)
        for reply in replies.values():
            assert (await answer(bridge, reply, "Gern geschehen!")).ok
        await bridge.run()
        for reply in replies.values():
            row = await answer_row(bridge, reply.id)
            assert row.state == AnswerState.SENT, (row.platform_id, row.reason, row.detail)
        assert fakes["fb"].comment_replies["c1"][0]["message"] == "Gern geschehen!"
        assert fakes["ig"].comment_replies["ig2"][0]["message"] == "Gern geschehen!"
        assert any(c.get("reply_to_id") == "t3" for c in fakes["th"].containers.values())
        assert fakes["li"].nested[0]["parentComment"] == f"urn:li:comment:({remote['li']},4)"
        assert any(t["in_reply_to"] == "5" for t in fakes["x"].tweets.values())
    finally:
        for federation in closing:
            await federation.close()
