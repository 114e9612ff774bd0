"""Consent receipts in the store: reading answers, giving and withdrawing, the state graph of moderation,
and the rule that an opt-out signal always beats consent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from consent.consents import (
    Answer,
    Channel,
    ConsentReason,
    ask_check,
    consent_states,
    consented_reply_ids,
    find_request,
    give,
    open_request,
    read_answer,
    receipts_of,
    request_by_token,
    withdraw_answer,
    withdraw_request,
)
from consent.display import shown_replies
from consent.erasure import erase_subject
from consent.ledger import ConsentReceipt
from consent.moderation import Blocker, ModerationState, MoveReason, allowed, display_blockers, move
from consent.models import Reply, Subject
from consent.replies import ReplyFacts, store_reply
from consent.signals import ProfileSignals, reply_snapshot
from consent.subjects import ActorFacts, remember_actor
from consent.vault import Vault

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
ALICE = "https://mastodon.example/users/alice"
DM = "https://stadt.example/users/stadt/consent_requests/abc"
PURPOSE = "public_replies"


@pytest.fixture
def vault() -> Vault:
    return Vault.from_secret(b"s" * 32)


@pytest.mark.parametrize("text, expected", [
    ("@stadt JA", Answer.YES), ("Ja, gerne!", Answer.YES), ("YES", Answer.YES), ("@stadt@stadt.example yes.", Answer.YES),
    ("STOP", Answer.STOP), ("nein danke", Answer.STOP), ("Ja ... nein, doch nicht", Answer.STOP),
    ("Stopp!", Answer.STOP), ("Was soll das?", Answer.UNCLEAR), ("", Answer.UNCLEAR),
    ("https://ja.example JA?", Answer.YES), ("Jawohl", Answer.UNCLEAR), ("jain", Answer.UNCLEAR),
])
def test_answers_are_read_strictly_and_any_stop_word_wins(text, expected):
    assert read_answer(text) is expected


def test_the_state_graph_allows_only_declared_moves():
    assert allowed("pending", ModerationState.APPROVED) is MoveReason.MOVED
    assert allowed("approved", ModerationState.HIDDEN) is MoveReason.MOVED
    assert allowed("hidden", ModerationState.APPROVED) is MoveReason.MOVED
    assert allowed("spam", ModerationState.APPROVED) is MoveReason.NOT_ALLOWED
    assert allowed("deleted", ModerationState.PENDING) is MoveReason.NOT_ALLOWED
    assert allowed("approved", ModerationState.APPROVED) is MoveReason.SAME_STATE
    assert allowed("rejected", ModerationState.APPROVED) is MoveReason.UNKNOWN_STATE
    assert allowed("hidden", ModerationState.PENDING) is MoveReason.NOT_ALLOWED, "nothing goes back to pending"


def test_every_opt_out_signal_blocks_public_display():
    public = reply_snapshot(ProfileSignals(), "public")
    assert display_blockers(public, {}) == []
    assert display_blockers(reply_snapshot(ProfileSignals(), "unlisted"), {}) == [Blocker.NOT_PUBLIC]
    assert display_blockers(reply_snapshot(ProfileSignals(), "direct"), {}) == [Blocker.NOT_PUBLIC]
    assert display_blockers(public, ProfileSignals.of(None, None, ["#NoIndex"]).as_dict()) == [Blocker.OPT_OUT_TAG]
    assert display_blockers(public, ProfileSignals.of(False, True, []).as_dict()) == [Blocker.NOT_INDEXABLE]
    gts = ProfileSignals.of(True, True, [], hides_cc_public=True).as_dict()
    assert display_blockers(public, gts) == [Blocker.HIDES_FROM_WEB]
    nobot_on_arrival = reply_snapshot(ProfileSignals.of(None, None, ["nobot"]), "public")
    assert display_blockers(nobot_on_arrival, {}) == [Blocker.OPT_OUT_TAG], "the snapshot counts even if removed"


async def _reply(session, vault, *, signals=None, actor_signals=None, uri=ALICE) -> Reply:
    subject = await remember_actor(session, vault, ActorFacts(uri=uri, inbox=uri + "/inbox", handle="@alice@x",
                                                              name="Alice", signals=actor_signals or {}))
    facts = ReplyFacts(object_id=uri + "/statuses/1", actor_name="stadt", post_id=7, content_html="<p>Hallo</p>",
                       signals=signals if signals is not None else reply_snapshot(ProfileSignals(), "public"))
    result = await store_reply(session, vault, subject, facts, timedelta(days=180), NOW)
    return await session.get(Reply, result.reply_id)


async def _ask(session, vault, reply) -> None:
    await open_request(session, vault, reply, purpose=PURPOSE, text="Dürfen wir?\n\nMay we?", dm_id=DM,
                       token="secret-token", requested_by="user:1", now=NOW)


async def test_a_receipt_is_given_once_shown_when_approved_and_withdrawn_by_the_link(sessions_only, vault):
    async with sessions_only() as session:
        reply = await _reply(session, vault)
        await _ask(session, vault, reply)
        assert await ask_check(session, reply.id) is ConsentReason.ALREADY_ASKED
        request = await find_request(session, vault, DM)
        alice = await session.get(Subject, reply.subject_id)
        given = await give(session, vault, alice, request, activity_id=ALICE + "/statuses/2/activity",
                           note_id=ALICE + "/statuses/2", key_id=ALICE + "#main-key", now=NOW)
        assert given.reason is ConsentReason.GIVEN
        again = await give(session, vault, alice, request, activity_id="x", note_id="y", key_id="z", now=NOW)
        assert again.reason is ConsentReason.ALREADY_GIVEN
        assert await consented_reply_ids(session, [reply.id], PURPOSE) == {reply.id}
        assert await shown_replies(session, vault, 7, PURPOSE) == [], "pending replies are never shown"
        assert (await move(session, reply, ModerationState.APPROVED, NOW)).ok
        [shown] = await shown_replies(session, vault, 7, PURPOSE)
        assert (shown.author_name, shown.content_html) == ("Alice", "<p>Hallo</p>")
        assert await shown_replies(session, vault, 7, "other_purpose") == []
        found = await request_by_token(session, "secret-token")
        withdrawn = await withdraw_request(session, found, Channel.LINK, NOW)
        assert withdrawn.reason is ConsentReason.WITHDRAWN
        assert await shown_replies(session, vault, 7, PURPOSE) == []
        assert await consent_states(session, [reply.id]) == {reply.id: "withdrawn"}
        assert await ask_check(session, reply.id) is ConsentReason.DECLINED_BEFORE
        assert await request_by_token(session, "wrong") is None


async def test_undo_withdraws_only_the_authors_own_answer_and_erasure_removes_receipts(sessions_only, vault):
    async with sessions_only() as session:
        reply = await _reply(session, vault)
        await _ask(session, vault, reply)
        request = await find_request(session, vault, DM)
        alice = await session.get(Subject, reply.subject_id)
        await give(session, vault, alice, request, activity_id="https://x/a/1", note_id="https://x/n/1",
                   key_id="k", now=NOW)
        other = await _reply(session, vault, uri="https://mastodon.example/users/bob")
        bob = await session.get(Subject, other.subject_id)
        assert (await give(session, vault, bob, request, activity_id="b", note_id="b", key_id="b",
                           now=NOW)).reason is ConsentReason.NOT_AUTHOR
        assert (await withdraw_answer(session, vault, bob, activity_id="https://x/a/1",
                                      now=NOW)).reason is ConsentReason.NOTHING_TO_WITHDRAW
        assert (await withdraw_answer(session, vault, alice, activity_id="https://x/a/1",
                                      now=NOW)).reason is ConsentReason.WITHDRAWN
        [exported] = await receipts_of(session, vault, alice)
        assert (exported["activity_id"], exported["key_id"], exported["state"], exported["withdrawal_channel"]) \
            == ("https://x/a/1", "k", "withdrawn", "undo")
        await erase_subject(session, vault, alice, NOW)
        await session.flush()
        assert (await session.scalars(select(ConsentReceipt))).all() == []


async def test_an_opt_out_in_the_profile_beats_a_given_consent(sessions_only, vault):
    async with sessions_only() as session:
        reply = await _reply(session, vault, actor_signals=ProfileSignals.of(None, None, ["nobot"]).as_dict())
        await _ask(session, vault, reply)
        alice = await session.get(Subject, reply.subject_id)
        await give(session, vault, alice, await find_request(session, vault, DM), activity_id="a", note_id="n",
                   key_id="k", now=NOW)
        await move(session, reply, ModerationState.APPROVED, NOW)
        assert await consented_reply_ids(session, [reply.id], PURPOSE) == {reply.id}
        assert await shown_replies(session, vault, 7, PURPOSE) == []
