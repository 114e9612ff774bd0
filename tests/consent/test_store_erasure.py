"""Consent store: erasing a subject deletes their rows and destroys their key, keeping the pseudonym."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from consent.erasure import erase_subject
from consent.followers import add_follower, follower_inboxes
from consent.interactions import InteractionKind, add_interaction
from consent.models import Follower, Interaction, QuoteGrant, RemoteActor, Reply, Report, Subject
from consent.quotes import grant_quote
from consent.replies import ReplyFacts, find_reply, store_reply
from consent.reports import add_report
from consent.subjects import ActorFacts, known_actor, known_profiles, remember_actor
from consent.vault import Vault

ALICE = "https://mastodon.example/users/alice"
BOB = "https://mastodon.example/users/bob"


async def _fill(session, vault, uri):
    subject = await remember_actor(session, vault, ActorFacts(uri, uri + "/inbox", "https://mastodon.example/inbox",
                                                              "@x@mastodon.example", "X"))
    await add_follower(session, vault, subject, "stadt", uri + "/follow")
    await store_reply(session, vault, subject, ReplyFacts(uri + "/statuses/1", "stadt", 1, "<p>hi</p>"),
                      timedelta(days=1))
    await add_interaction(session, vault, subject, uri + "#likes/1", 1, InteractionKind.LIKE)
    await grant_quote(session, vault, subject, "stadt", 1, uri + "/qr", uri + "/statuses/2")
    await add_report(session, vault, subject, "mastodon.example", "comment", [1])
    return subject


async def _count(session, model, subject_id) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(model.subject_id == subject_id))


async def test_erasure_deletes_every_row_and_destroys_the_key(sessions_only):
    vault = Vault.from_secret(b"e" * 32)
    async with sessions_only.begin() as session:
        alice, bob = await _fill(session, vault, ALICE), await _fill(session, vault, BOB)
        pseudonym = alice.pseudonym
        assert set(await known_profiles(session, vault, [ALICE, BOB, ALICE + "x"])) == {ALICE, BOB}
        erasure = await erase_subject(session, vault, alice)
        assert erasure.as_dict() == {"followers": 1, "replies": 1, "interactions": 1, "quote_grants": 1,
                                     "reports": 1, "remote_actor": 1}
        for model in (Follower, Reply, Interaction, QuoteGrant, RemoteActor):
            assert await _count(session, model, alice.id) == 0, model.__name__
            assert await _count(session, model, bob.id) == 1, model.__name__
        report = await session.scalar(select(Report).where(Report.subject_id == alice.id))
        assert report.enc_comment is None and report.post_ids == [1]  # the report itself stays for moderators
        assert alice.wrapped_key is None and alice.erased_at is not None and alice.pseudonym == pseudonym
        assert await known_actor(session, vault, ALICE) is None and await find_reply(session, vault,
                                                                                      ALICE + "/statuses/1") is None
        assert [i.url for i in await follower_inboxes(session, vault, "stadt")] == ["https://mastodon.example/inbox"]
        known = await known_profiles(session, vault, [ALICE, BOB])
        assert set(known) == {BOB} and known[BOB].subject.id == bob.id  # the batched inbox skips erased people
        again = await erase_subject(session, vault, alice)
        assert sum(again.as_dict().values()) == 0
    async with sessions_only() as session:
        kept = await session.get(Subject, alice.id)
        assert kept is not None and kept.wrapped_key is None and kept.pseudonym == pseudonym
