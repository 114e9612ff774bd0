"""Poll votes exactly as Mastodon sends them (signed `Create(Note)` with `name`, `inReplyTo` the question,
addressed to the account only): counted once per voter and option, never a reply, the voter kept only as a
keyed pseudonym until the poll closes; bad votes answer a reason code and change nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.privacy.rights import run_retention
from bridge.publishing import polls
from bridge.store.blocks import DomainBlock
from bridge.store.db import utcnow
from bridge.store.models import Job, Post
from bridge.store.polls import Poll, PollVote
from consent.models import Reply
from fakes import fediverse
from fakes.fediverse import mastodon_follow
from support.inbox import CITY, audit, instances, mastodon, network, note_uri, publish, run_jobs, stadt  # noqa: F401


async def poll_post(client, options=("Ja", "Nein", "Egal"), multiple=False, hide_totals=False,
                    minutes=60) -> int:
    post_id = await publish(client, text="Soll der Marktplatz autofrei werden?")
    async with client.app[SESSIONS].begin() as session:
        session.add(Poll(post_id=post_id, options=list(options), counts=[0] * len(options), multiple=multiple,
                         hide_totals=hide_totals, expires_in=minutes * 60, voters_count=0, voter_inboxes=[],
                         expires_at=utcnow() + timedelta(minutes=minutes)))
    return post_id


def mastodon_vote(actor, post_id: int, choice: str, number: int = 1) -> dict:
    return fediverse.mastodon_vote(actor, note_uri(post_id), CITY, choice, number)


async def poll_of(client, post_id: int) -> Poll:
    async with client.app[SESSIONS]() as session:
        return await session.get(Poll, post_id)


async def votes(client) -> list[PollVote]:
    async with client.app[SESSIONS]() as session:
        return list((await session.scalars(select(PollVote))).all())


async def replies(client) -> int:
    async with client.app[SESSIONS]() as session:
        return await session.scalar(select(func.count()).select_from(Reply))


async def test_a_mastodon_vote_is_counted_once_and_is_no_reply(stadt, mastodon):
    alice, bob = mastodon.add_actor("alice"), mastodon.add_actor("bob")
    post_id = await poll_post(stadt)
    assert await mastodon.sign_and_post(stadt, mastodon_vote(alice, post_id, "Ja"), alice) == \
        (202, {"status": "vote_counted"})
    assert await mastodon.sign_and_post(stadt, mastodon_vote(bob, post_id, "Nein"), bob) == \
        (202, {"status": "vote_counted"})
    # the same person again, with a new activity id and another option: single choice, so refused
    assert await mastodon.sign_and_post(stadt, mastodon_vote(alice, post_id, "Nein", 2), alice) == \
        (202, {"status": "vote_already_voted"})
    poll = await poll_of(stadt, post_id)
    assert poll.counts == [1, 1, 0] and poll.voters_count == 2
    assert await replies(stadt) == 0
    stored = await votes(stadt)
    assert len(stored) == 2
    for row in stored:  # only a pseudonym, and not the one the consent store would use
        assert "mastodon.test" not in row.voter and "alice" not in row.voter and len(row.voter) == 32
    entries = await audit(stadt, "poll.vote_counted")
    assert len(entries) == 2
    assert all("alice" not in json.dumps(e.details) for e in entries)


async def test_multiple_choice_counts_each_option_once_per_voter(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await poll_post(stadt, multiple=True)
    for number, choice in enumerate(("Ja", "Egal", "Ja"), start=1):
        await mastodon.sign_and_post(stadt, mastodon_vote(alice, post_id, choice, number), alice)
    poll = await poll_of(stadt, post_id)
    assert poll.counts == [1, 0, 1] and poll.voters_count == 1


@pytest.mark.parametrize("case", ["unknown_option", "not_a_poll", "closed"])
async def test_bad_votes_answer_a_reason_and_change_nothing(stadt, mastodon, case):
    alice = mastodon.add_actor("alice")
    post_id = await poll_post(stadt) if case != "not_a_poll" else await publish(stadt)
    choice = "Vielleicht" if case == "unknown_option" else "Ja"
    if case == "closed":
        async with stadt.app[SESSIONS].begin() as session:
            post = await session.get(Post, post_id)
            assert await polls.close_poll(session, post, utcnow(), None) is polls.PollReason.NOT_YET
            (await session.get(Poll, post_id)).expires_at = utcnow() - timedelta(seconds=1)
    status, body = await mastodon.sign_and_post(stadt, mastodon_vote(alice, post_id, choice), alice)
    assert (status, body) == (202, {"status": {"unknown_option": "vote_unknown_option",
                                               "not_a_poll": "vote_not_a_poll",
                                               "closed": "vote_poll_closed"}[case]})
    assert await votes(stadt) == [] and await replies(stadt) == 0
    if case != "not_a_poll":
        assert (await poll_of(stadt, post_id)).counts == [0, 0, 0]


async def test_a_vote_from_a_blocked_server_is_refused_without_a_count(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await poll_post(stadt)
    async with stadt.app[SESSIONS].begin() as session:
        session.add(DomainBlock(domain="mastodon.test", reason="spam", blocked_by="user:1"))
    assert await mastodon.sign_and_post(stadt, mastodon_vote(alice, post_id, "Ja"), alice) == \
        (403, {"error": "domain_blocked"})
    assert (await poll_of(stadt, post_id)).counts == [0, 0, 0]


async def test_tallies_go_out_batched_and_the_close_deletes_the_votes(stadt, mastodon):
    alice, bob = mastodon.add_actor("alice"), mastodon.add_actor("bob")
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice))[0] == 202
    post_id = await poll_post(stadt)
    await mastodon.sign_and_post(stadt, mastodon_vote(alice, post_id, "Ja"), alice)
    await mastodon.sign_and_post(stadt, mastodon_vote(bob, post_id, "Egal"), bob)
    async with stadt.app[SESSIONS]() as session:
        tallies = (await session.scalars(select(Job).where(Job.kind == polls.TALLY_JOB))).all()
    assert len(tallies) == 1  # two votes, one pending Update
    async with stadt.app[SESSIONS].begin() as session:  # its time has come
        for job in (await session.scalars(select(Job).where(Job.kind == polls.TALLY_JOB))).all():
            job.run_at = utcnow()
    await run_jobs(stadt)
    updates = [r.json for r in mastodon.received if r.json.get("type") == "Update"]
    assert updates, "the tally reaches the follower's server"
    question = updates[-1]["object"]
    assert question["type"] == "Question" and "updated" not in question
    assert [(o["name"], o["replies"]["totalItems"]) for o in question["oneOf"]] == [("Ja", 1), ("Nein", 0),
                                                                                    ("Egal", 1)]
    assert question["votersCount"] == 2 and "closed" not in question
    # an editor closes early: votes deleted, counts kept, the final tally with `closed` goes out
    async with stadt.app[SESSIONS].begin() as session:
        post = await session.get(Post, post_id)
        assert await polls.close_poll(session, post, utcnow(), None) is polls.PollReason.NOT_YET
    async with stadt.app[SESSIONS].begin() as session:
        post = await session.get(Post, post_id)
        (await session.get(Poll, post_id)).expires_at = utcnow()
        assert await polls.close_poll(session, post, utcnow(), None) is polls.PollReason.CLOSED
    assert await votes(stadt) == []
    before = len(mastodon.received)
    await run_jobs(stadt)
    final = [r.json for r in mastodon.received[before:] if r.json.get("type") == "Update"][-1]["object"]
    assert final["closed"] == final["endTime"]
    assert (await poll_of(stadt, post_id)).counts == [1, 0, 1]
    assert len(await audit(stadt, "poll.closed")) == 1
    status, body = await mastodon.sign_and_post(stadt, mastodon_vote(alice, post_id, "Nein", 9), alice)
    assert body == {"status": "vote_poll_closed"}


async def test_the_retention_run_deletes_votes_a_missed_closing_left_behind(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await poll_post(stadt)
    await mastodon.sign_and_post(stadt, mastodon_vote(alice, post_id, "Ja"), alice)
    async with stadt.app[SESSIONS].begin() as session:  # ended two days ago; its closing job never ran
        (await session.get(Poll, post_id)).expires_at = utcnow() - timedelta(days=2)
        counts = await run_retention(session, stadt.app[FEDERATION].vault, stadt.app[CONFIG], ("system", "system"))
    assert counts["poll_votes"] == 1 and await votes(stadt) == []
    assert (await poll_of(stadt, post_id)).counts == [1, 0, 0]
