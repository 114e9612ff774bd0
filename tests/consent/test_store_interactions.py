"""Consent store: likes and boosts as counters that can be undone, reports, quote grants, dedupe marks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from consent.models import Reply
from consent.interactions import InteractionKind, add_interaction, count_for, remove_interaction
from consent.quotes import find_grant, grant_quote, grant_token, withdraw_grants_for_post
from consent.replies import ReplyFacts, store_reply
from consent.reports import add_report, open_reports, report_comment
from consent.seen import forget_seen_before, mark_seen, was_seen
from consent.subjects import ensure_subject
from consent.vault import Vault

ALICE = "https://mastodon.example/users/alice"
BOB = "https://gts.example/users/bob"


@pytest.fixture
def vault() -> Vault:
    return Vault.from_secret(b"i" * 32)


async def test_likes_and_boosts_are_counted_per_post_and_undone(sessions_only, vault):
    async with sessions_only.begin() as session:
        alice, bob = await ensure_subject(session, vault, ALICE), await ensure_subject(session, vault, BOB)
        assert await add_interaction(session, vault, alice, ALICE + "#likes/1", 1, InteractionKind.LIKE)
        assert not await add_interaction(session, vault, alice, ALICE + "#likes/1", 1, InteractionKind.LIKE)
        assert not await add_interaction(session, vault, alice, ALICE + "#likes/2", 1, InteractionKind.LIKE)
        assert await add_interaction(session, vault, bob, BOB + "/like", 1, InteractionKind.LIKE)
        assert await add_interaction(session, vault, bob, BOB + "/boost", 1, InteractionKind.ANNOUNCE)
        assert await add_interaction(session, vault, bob, BOB + "/like2", 2, InteractionKind.LIKE)
        await store_reply(session, vault, alice, ReplyFacts(ALICE + "/statuses/9", "stadt", 1, "<p>x</p>"),
                          timedelta(days=1))
        assert await count_for(session, [1, 2, 3]) == {1: {"likes": 2, "boosts": 1, "replies": 1},
                                                      2: {"likes": 1, "boosts": 0, "replies": 0},
                                                      3: {"likes": 0, "boosts": 0, "replies": 0}}
        # Someone else's Undo with the same id touches nothing; the author's removes exactly one row.
        assert await remove_interaction(session, vault, bob, ALICE + "#likes/1") == 0
        assert await remove_interaction(session, vault, alice, ALICE + "#likes/1") == 1
        # An Undo whose id we never saw still finds the like by person, post and kind.
        assert await remove_interaction(session, vault, bob, BOB + "/other", 2, InteractionKind.LIKE) == 1
        assert (await count_for(session, [1, 2]))[1]["likes"] == 1 and (await count_for(session, [2]))[2]["likes"] == 0
        assert await count_for(session, []) == {}


async def test_reports_seal_the_comment_of_the_sender(sessions_only, vault):
    async with sessions_only.begin() as session:
        sender = await ensure_subject(session, vault, "https://mastodon.example/actor")
        report = await add_report(session, vault, sender, "mastodon.example", "Spam " * 2000, [5, 6])
        anonymous = await add_report(session, vault, None, "other.example", "no key to seal it with", [])
        assert b"Spam" not in report.enc_comment and anonymous.enc_comment is None
        assert len(report_comment(vault, sender, report)) == 5000
        assert [r.id for r in await open_reports(session)] == [report.id, anonymous.id]


async def test_quote_grants_are_stable_per_request_and_withdrawn_with_the_post(sessions_only, vault):
    async with sessions_only.begin() as session:
        alice = await ensure_subject(session, vault, ALICE)
        token = await grant_quote(session, vault, alice, "stadt", 7, ALICE + "/qr/1", ALICE + "/statuses/120")
        assert token == grant_token(vault, ALICE + "/qr/1")
        assert await grant_quote(session, vault, alice, "stadt", 7, ALICE + "/qr/1", ALICE + "/statuses/120") == token
        grant = await find_grant(session, vault, "stadt", token)
        assert (grant.post_id, grant.instrument) == (7, ALICE + "/statuses/120")
        assert await find_grant(session, vault, "feuerwehr", token) is None
        assert await withdraw_grants_for_post(session, 7) == 1
        assert await find_grant(session, vault, "stadt", token) is None


async def test_inbound_activity_ids_are_remembered_by_keyed_hash(sessions_only, vault):
    then = datetime(2026, 1, 1, tzinfo=timezone.utc)
    async with sessions_only.begin() as session:
        assert not await was_seen(session, vault, ALICE + "#likes/1")
        mark_seen(session, vault, ALICE + "#likes/1", then)
        await session.flush()
        assert await was_seen(session, vault, ALICE + "#likes/1")
        assert not await was_seen(session, Vault.from_secret(b"j" * 32), ALICE + "#likes/1")
        assert await forget_seen_before(session, then + timedelta(days=4)) == 1
        assert not await was_seen(session, vault, ALICE + "#likes/1")


async def test_hidden_and_spam_replies_are_not_counted(sessions_only, vault):
    async with sessions_only.begin() as session:
        alice, bob = await ensure_subject(session, vault, ALICE), await ensure_subject(session, vault, BOB)
        kept = await store_reply(session, vault, alice, ReplyFacts(ALICE + "/statuses/1", "stadt", 7, "<p>a</p>"),
                                 timedelta(days=1))
        spam = await store_reply(session, vault, bob, ReplyFacts(BOB + "/statuses/2", "stadt", 7, "<p>b</p>"),
                                 timedelta(days=1))
        assert (await count_for(session, [7]))[7]["replies"] == 2
        (await session.get(Reply, spam.reply_id)).state = "spam"
        await session.flush()
        assert (await count_for(session, [7]))[7]["replies"] == 1
        (await session.get(Reply, kept.reply_id)).state = "hidden"
        await session.flush()
        assert (await count_for(session, [7]))[7]["replies"] == 0
