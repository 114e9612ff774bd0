"""Telegram's native poll (issue 22): `sendPoll` after the message, in the Bot API's shape (anonymous, as
channels require; options as InputPollOption; open_period only within 5-600 s), its counts from `poll`
updates kept per send apart from the fediverse tally, `stopPoll` when our poll closes early or at its end."""

from __future__ import annotations

from sqlalchemy import update

from activitypub.uris import Uris
from bridge.platforms import sends as mirroring
from bridge.platforms.connectors.base import PollView
from bridge.platforms.connectors.telegram import TelegramConnector
from bridge.platforms.connectors.telegram_polls import QUESTION_LIMIT, poll_request, question_of
from bridge.publishing import posts, polls
from bridge.publishing.pollrules import PollDraft
from bridge.reach.figures import account_reach
from bridge.store.db import utcnow
from bridge.store.models import Job, JobState, Post
from fakes.platforms import Clock, platform, state, view
from support.mirroring import bridge  # noqa: F401  (fixture)


async def _post_poll(bridge, text: str, options=("Ja", "Nein"), multiple=False, expires_in=86400) -> int:
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        result = await posts.create_post(s, bridge.config, user, posts.Draft(
            "stadt", text, mirrors=("tg",), poll=PollDraft(tuple(options), expires_in, multiple)))
        assert result.ok, result.reason
        return result.post.id


async def test_the_poll_follows_the_message_in_the_bot_apis_shape_and_is_kept_on_the_send(bridge):
    post_id = await _post_poll(bridge, "Soll der Wochenmarkt samstags länger öffnen?\nBis 16 Uhr statt 13 Uhr.",
                               ("Ja", "Nein", "Egal"), multiple=True)
    await bridge.run()
    send = await bridge.send(post_id, "tg")
    assert send.state == "sent"
    [request] = bridge.telegram.poll_requests
    assert request["chat_id"] == "@stadt" and request["question"] == "Soll der Wochenmarkt samstags länger öffnen?"
    assert request["options"] == [{"text": "Ja"}, {"text": "Nein"}, {"text": "Egal"}]
    assert request["is_anonymous"] is True and request["allows_multiple_answers"] is True
    assert "open_period" not in request  # a day is beyond Telegram's 600 s: our closing job stops it
    assert request["reply_parameters"]["message_id"] == int(send.remote_id)
    message = bridge.telegram.messages[int(send.remote_id)]
    assert f"/@stadt/{post_id}" in message["text"]  # the message keeps its text and the link to the page
    poll_message = send.remote_extra["poll_message_id"]
    assert bridge.telegram.messages[poll_message]["kind"] == "poll"
    assert send.remote_extra["poll_id"] == f"poll-{poll_message}" and poll_message in send.remote_extra["message_ids"]


async def test_votes_on_telegram_come_back_per_option_and_stay_apart_from_ours(bridge):
    post_id = await _post_poll(bridge, "Neues Logo für die Stadt?")
    await bridge.run()
    send = await bridge.send(post_id, "tg")
    bridge.telegram.vote(send.remote_extra["poll_message_id"], [4, 1])
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    send = await bridge.send(post_id, "tg")
    assert send.metrics == {"poll": [4, 1], "poll_voters": 5} and send.metrics_at is not None
    async with bridge.sessions() as s:
        figures = await account_reach(s, Uris.for_base(bridge.config.instance.base_url), "stadt", bridge.clock().date())
    [reach] = [p for p in figures.posts if p.post_id == post_id]
    assert reach.voters == 0 and [(f.platform, f.poll) for f in reach.platforms] == [("tg", (4, 1))]
    # Telegram sends an update for every change: without one the counts stand, and a new one replaces them.
    bridge.clock.advance(minutes=30)
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    assert (await bridge.send(post_id, "tg")).metrics == {"poll": [4, 1], "poll_voters": 5}
    # multiple choice: five people gave seven votes, and Telegram says so
    bridge.telegram.vote(send.remote_extra["poll_message_id"], [4, 3], voters=5)
    bridge.clock.advance(minutes=30)
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    assert (await bridge.send(post_id, "tg")).metrics == {"poll": [4, 3], "poll_voters": 5}


async def test_closing_our_poll_early_stops_telegrams_and_keeps_its_final_counts(bridge):
    post_id = await _post_poll(bridge, "Baumpflanzung: Linde oder Eiche?", ("Linde", "Eiche"))
    await bridge.run()
    send = await bridge.send(post_id, "tg")
    poll_message = send.remote_extra["poll_message_id"]
    reported = bridge.telegram.messages[poll_message]["poll"]  # votes not yet reported in an update
    reported["options"][0]["voter_count"], reported["total_voter_count"] = 6, 6
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        assert await polls.close_poll(s, await s.get(Post, post_id), utcnow(), user) is polls.PollReason.CLOSED
    await bridge.run()
    assert bridge.telegram.stopped == [poll_message]
    send = await bridge.send(post_id, "tg")
    assert send.metrics == {"poll": [6, 0], "poll_voters": 6} and send.state == "sent"  # closing is no edit


async def test_the_closing_job_at_the_polls_end_stops_it_and_an_already_closed_poll_is_no_failure(bridge):
    post_id = await _post_poll(bridge, "Kurze Umfrage", expires_in=300)
    await bridge.run()
    send = await bridge.send(post_id, "tg")
    assert bridge.telegram.poll_requests[0]["open_period"] == 300  # within 5-600 s Telegram closes it itself
    bridge.telegram.messages[send.remote_extra["poll_message_id"]]["poll"]["is_closed"] = True  # it did
    async with bridge.sessions.begin() as s:
        await s.execute(update(Job).where(Job.kind == polls.CLOSE_JOB).values(run_at=utcnow()))
        poll = await s.get(polls.Poll, post_id)
        poll.expires_at = utcnow()
    await bridge.run()
    async with bridge.sessions() as s:
        jobs = (await s.execute(Job.__table__.select().where(Job.kind == mirroring.SEND_JOB))).all()
    closing = [j for j in jobs if j.payload.get("change") == "close_poll"]
    assert len(closing) == 1 and closing[0].state == JobState.DONE
    assert bridge.telegram.stopped == []  # Telegram answered "already closed": nothing left to do


async def test_a_refused_poll_leaves_the_message_sent_once_and_says_why(bridge):
    bridge.telegram.polls_forbidden = True
    post_id = await _post_poll(bridge, "Umfrage ohne Rechte")
    await bridge.run()
    send = await bridge.send(post_id, "tg")
    assert send.state == "sent" and send.remote_extra["poll_failed"] == "rejected"
    assert "poll_message_id" not in send.remote_extra
    assert [m["kind"] for m in bridge.telegram.messages.values()] == ["text"]  # the message went out once
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        await polls.close_poll(s, await s.get(Post, post_id), utcnow(), user)
    await bridge.run()
    assert bridge.telegram.calls.count("stopPoll") == 0  # nothing of ours to stop there


def test_a_poll_telegram_cannot_take_goes_as_the_link_alone():
    connector = TelegramConnector(platform("telegram", "http://api.telegram.org", bot_token="1:A", chat_id="@s"),
                                  None, state(), Clock())
    eleven = PollView(tuple(f"Option {i}" for i in range(11)), False, 86400)
    assert connector.render(view("Umfrage", poll=eleven)).extra["poll"] is None
    long_option = PollView(("Ja", "x" * 101), False, 86400)
    assert poll_request(long_option, "Frage") is None
    assert connector.render(view("Ohne Umfrage")).extra.get("poll") is None
    question = question_of("Wort " * 100)
    assert len(question) <= QUESTION_LIMIT and question.endswith("…") and "Wor…" not in question


def test_counts_kept_before_voters_were_are_still_read():
    from bridge.platforms.connectors.telegram_polls import kept_counts, remember_counts
    limits = {"poll_counts": {"p-1": [3, 2]}}  # as an earlier version kept them
    assert kept_counts(limits, "p-1") == ((3, 2), None) and kept_counts(limits, "p-2") is None
    poll = {"id": "p-1", "options": [{"voter_count": 4}, {"voter_count": 2}], "total_voter_count": 5}
    remember_counts(limits, [{"update_id": 1, "poll": poll}])
    assert kept_counts(limits, "p-1") == ((4, 2), 5)
