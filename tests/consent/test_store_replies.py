"""Consent store: replies sealed per author, kept for moderation, changed and erased only by their author."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from consent.fingerprints import Kind, fingerprint
from consent.models import Reply
from consent.replies import (
    LEGAL_BASIS,
    ReplyFacts,
    ReplyReason,
    erase_reply,
    find_reply,
    open_reply,
    replies_of,
    store_reply,
    update_reply,
)
from consent.signals import ProfileSignals, reply_snapshot
from consent.subjects import ensure_subject
from consent.vault import Vault

NOTE = "https://mastodon.example/users/alice/statuses/1"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def vault() -> Vault:
    return Vault.from_secret(b"s" * 32)


def facts(text: str = "<p>Danke</p>", **extra) -> ReplyFacts:
    signals = reply_snapshot(ProfileSignals.of(False, True, ["NoBot", "other"], hides_cc_public=True), "unlisted")
    return ReplyFacts(object_id=NOTE, actor_name="stadt", post_id=42, content_html=text, summary="CW",
                      url="https://mastodon.example/@alice/1", signals=signals, **extra)


async def test_a_reply_is_stored_pending_sealed_with_a_deadline(sessions_only, vault):
    async with sessions_only.begin() as session:
        alice = await ensure_subject(session, vault, "https://mastodon.example/users/alice")
        result = await store_reply(session, vault, alice, facts(), timedelta(days=30), NOW)
        assert result.reason is ReplyReason.STORED
        reply = await session.get(Reply, result.reply_id)
        assert reply.state == "pending" and reply.legal_basis == LEGAL_BASIS == "gdpr_6_1_e"
        assert reply.retain_until == NOW + timedelta(days=30)
        assert reply.object_hash == fingerprint(vault, Kind.OBJECT, NOTE) and NOTE.encode() not in reply.enc_object_id
        assert b"Danke" not in reply.enc_content
        assert reply.signals == {"indexable": False, "discoverable": True, "opt_out_tags": ["nobot"],
                                 "hides_to_public": False, "hides_cc_public": True, "visibility": "unlisted",
                                 "public": False, "profile_known": True, "opted_out": True}
        opened = open_reply(vault, alice, reply)
        assert (opened.content_html, opened.summary, opened.object_id, opened.post_id) == ("<p>Danke</p>", "CW",
                                                                                         NOTE, 42)
        again = await store_reply(session, vault, alice, facts(), timedelta(days=30), NOW)
        assert again.reason is ReplyReason.ALREADY_STORED and len(await replies_of(session, alice)) == 1


async def test_only_the_author_may_update_or_erase_a_reply(sessions_only, vault):
    async with sessions_only.begin() as session:
        alice = await ensure_subject(session, vault, "https://mastodon.example/users/alice")
        mallory = await ensure_subject(session, vault, "https://evil.example/users/mallory")
        await store_reply(session, vault, alice, facts(), timedelta(days=30), NOW)
        assert (await update_reply(session, vault, mallory, facts("<p>hacked</p>"))).reason is ReplyReason.NOT_AUTHOR
        assert (await erase_reply(session, vault, mallory, NOTE)).reason is ReplyReason.NOT_AUTHOR
        assert (await store_reply(session, vault, mallory, facts(), timedelta(days=1))).reason \
            is ReplyReason.NOT_AUTHOR
        updated = await update_reply(session, vault, alice, facts("<p>Vielen Dank</p>"), NOW + timedelta(hours=1))
        assert updated.reason is ReplyReason.UPDATED
        reply = await find_reply(session, vault, NOTE)
        assert open_reply(vault, alice, reply).content_html == "<p>Vielen Dank</p>"
        assert reply.updated_at == NOW + timedelta(hours=1) and reply.retain_until == NOW + timedelta(days=30)
        assert (await erase_reply(session, vault, alice, NOTE)).reason is ReplyReason.ERASED
        assert await find_reply(session, vault, NOTE) is None
        assert (await erase_reply(session, vault, alice, NOTE)).reason is ReplyReason.NOT_FOUND
        assert (await update_reply(session, vault, alice, facts())).reason is ReplyReason.NOT_FOUND


async def test_nothing_is_stored_for_an_erased_subject(sessions_only, vault):
    async with sessions_only.begin() as session:
        alice = await ensure_subject(session, vault, "https://mastodon.example/users/alice")
        alice.wrapped_key = None
        vault.forget(alice.id)
        assert (await store_reply(session, vault, alice, facts(), timedelta(days=1))).reason \
            is ReplyReason.SUBJECT_ERASED


def test_profile_signals_keep_flags_only_and_round_trip():
    signals = ProfileSignals.of(None, False, ["#noindex", "noindex", "NOBRIDGE", "Fahrrad"])
    assert signals.opt_out_tags == ("nobridge", "noindex")  # free-text tags like "Fahrrad" are never kept
    assert ProfileSignals.from_dict(signals.as_dict()) == signals
    assert ProfileSignals().opted_out is False and ProfileSignals(indexable=False).opted_out is True
