"""Inbound activities one by one: duplicates, replies that are not for us, updates, reports, quote requests
per account policy, account deletions that cannot be verified any more, and delivery-host recovery."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from activitypub.uris import PUBLIC
from bridge.appkeys import FEDERATION, SESSIONS
from bridge.store.db import utcnow
from bridge.store.models import DeliveryHost, Post, PostState
from consent.models import Interaction, QuoteGrant, Report, Reply, Subject
from consent.replies import open_reply
from consent.reports import report_comment
from consent.subjects import find_subject, known_actor
from fakes.fediverse import AS_CONTEXT, fixed_key, mastodon_follow, mastodon_reply
from support.inbox import CITY, STADT, URIS, audit, instances, mastodon, network, note_uri, publish, run_jobs, stadt, vault  # noqa: F401,E501


@pytest.fixture
def config(make_config):
    return make_config(actors=[
        {"name": "stadt", "display_name": "Stadt", "quote_policy": "public"},
        {"name": "feuerwehr", "display_name": "Feuerwehr", "quote_policy": "nobody"},
        {"name": "theater", "display_name": "Theater", "quote_policy": "followers"},
    ])


async def rows(client, model) -> list:
    async with client.app[SESSIONS]() as session:
        return list((await session.scalars(select(model))).all())


def like_of(actor, post_id: int, number: int = 1) -> dict:
    return {"@context": AS_CONTEXT, "id": f"{actor.uri}#likes/{number}", "type": "Like", "actor": actor.uri,
            "object": note_uri(post_id)}


async def test_a_redelivered_activity_has_one_effect(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await publish(stadt)
    like = like_of(alice, post_id)
    assert await mastodon.sign_and_post(stadt, like, alice) == (202, {"status": "interaction_added"})
    assert await mastodon.sign_and_post(stadt, like, alice) == (202, {"status": "duplicate"})
    assert len(await rows(stadt, Interaction)) == 1
    assert len(await audit(stadt, "interaction.added")) == 1


async def test_a_second_like_with_a_new_id_by_the_same_person_counts_once(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await publish(stadt)
    await mastodon.sign_and_post(stadt, like_of(alice, post_id, 1), alice)
    assert (await mastodon.sign_and_post(stadt, like_of(alice, post_id, 2), alice))[1] == {"status": "already_done"}
    assert len(await rows(stadt, Interaction)) == 1


async def test_replies_to_posts_that_do_not_exist_are_ignored(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    status, body = await mastodon.sign_and_post(stadt, mastodon_reply(alice, note_uri(12345), CITY), alice)
    assert (status, body) == (202, {"status": "unknown_post"})
    draft = await publish(stadt)
    async with stadt.app[SESSIONS].begin() as session:
        (await session.get(Post, draft)).state = PostState.DELETED
    assert (await mastodon.sign_and_post(stadt, mastodon_reply(alice, note_uri(draft), CITY, 2), alice))[1] \
        == {"status": "unknown_post"}
    assert await rows(stadt, Reply) == []


async def test_notes_that_neither_reply_to_nor_mention_us_are_not_kept(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    note = mastodon_reply(alice, "http://mastodon.test/users/bob/statuses/9", "http://mastodon.test/users/bob")
    assert (await mastodon.sign_and_post(stadt, note, alice))[1] == {"status": "not_for_us"}
    assert await rows(stadt, Reply) == [] and await rows(stadt, Subject) == []


async def test_a_reply_to_a_reply_under_our_post_is_kept_under_that_post(stadt, mastodon):
    alice, bob = mastodon.add_actor("alice", key_index=0), mastodon.add_actor("bob", key_index=1)
    post_id = await publish(stadt)
    first = mastodon_reply(alice, note_uri(post_id), CITY)
    await mastodon.sign_and_post(stadt, first, alice)
    second = mastodon_reply(bob, first["object"]["id"], alice.uri)
    assert (await mastodon.sign_and_post(stadt, second, bob))[1] == {"status": "reply_stored"}
    assert {r.post_id for r in await rows(stadt, Reply)} == {post_id}


async def test_unknown_activity_types_are_accepted_and_ignored(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    block = {"@context": AS_CONTEXT, "id": alice.uri + "#blocks/1", "type": "Block", "actor": alice.uri,
             "object": CITY}
    odd = {"@context": AS_CONTEXT, "id": alice.uri + "#x/1", "type": "Totally Custom", "actor": alice.uri}
    assert await mastodon.sign_and_post(stadt, block, alice) == (202, {"status": "ignored_type"})
    assert await mastodon.sign_and_post(stadt, odd, alice) == (202, {"status": "ignored_type"})
    assert [e.details["type"] for e in await audit(stadt, "inbound.accepted")] == ["Block", "other"]


async def test_update_of_a_reply_and_of_the_profile(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await publish(stadt)
    reply = mastodon_reply(alice, note_uri(post_id), CITY)
    await mastodon.sign_and_post(stadt, reply, alice)
    edited = {**reply["object"], "content": "<p>Vielen Dank!</p>", "updated": "2026-01-01T11:00:00Z"}
    update = {"@context": AS_CONTEXT, "id": edited["id"] + "#updates/1", "type": "Update", "actor": alice.uri,
              "object": edited}
    assert (await mastodon.sign_and_post(stadt, update, alice))[1] == {"status": "reply_updated"}
    profile = {**alice.document(), "name": "Alice B.", "summary": "<p>#nobot</p>", "indexable": False}
    update_actor = {"@context": AS_CONTEXT, "id": alice.uri + "#updates/2", "type": "Update", "actor": alice.uri,
                    "object": profile}
    assert (await mastodon.sign_and_post(stadt, update_actor, alice))[1] == {"status": "subject_updated"}
    async with stadt.app[SESSIONS]() as session:
        known = await known_actor(session, vault(stadt), alice.uri)
        [stored] = (await session.scalars(select(Reply))).all()
        opened = open_reply(vault(stadt), known.subject, stored)
    assert known.name == "Alice B." and known.signals["opt_out_tags"] == ["nobot"]
    assert known.signals["indexable"] is False and "Vielen Dank" in opened.content_html
    assert stored.updated_at is not None and stored.state == "pending"


async def test_a_report_becomes_a_report_row_for_the_moderators(stadt, mastodon):
    server = mastodon.add_actor("actor", path="/actor", type="Application")
    post_id = await publish(stadt)
    flag = {"@context": AS_CONTEXT, "id": "http://mastodon.test/reports/1", "type": "Flag", "actor": server.uri,
            "content": "Spam", "object": [CITY, note_uri(post_id)]}
    assert (await mastodon.sign_and_post(stadt, flag, server))[1] == {"status": "report_received"}
    [report] = await rows(stadt, Report)
    assert report.post_ids == [post_id] and report.domain == "mastodon.test" and report.state == "open"
    async with stadt.app[SESSIONS]() as session:
        subject = await session.get(Subject, report.subject_id)
    assert report_comment(vault(stadt), subject, report) == "Spam"
    [entry] = await audit(stadt, "report.received")
    assert entry.details["posts"] == 1


def quote_request(actor, post_id: int, account: str = "stadt", number: int = 1) -> dict:
    return {"@context": AS_CONTEXT, "id": f"{actor.uri}/quote_requests/{number}", "type": "QuoteRequest",
            "actor": actor.uri, "object": note_uri(post_id, account),
            "instrument": {"id": f"{actor.uri}/statuses/{100 + number}", "type": "Note", "attributedTo": actor.uri,
                           "content": "<p>Wichtig!</p>", "quote": note_uri(post_id, account)}}


async def test_quote_request_is_accepted_with_a_dereferenceable_authorization(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await publish(stadt)
    request = quote_request(alice, post_id)
    assert (await mastodon.sign_and_post(stadt, request, alice))[1] == {"status": "quote_accepted"}
    await run_jobs(stadt)
    [accept] = mastodon.received
    assert accept.verified and accept.json["type"] == "Accept" and accept.json["object"]["id"] == request["id"]
    assert accept.json["object"]["instrument"] == request["instrument"]["id"]  # ids only, never their text
    authorization = accept.json["result"]
    response = await stadt.get(authorization.removeprefix(STADT), headers={"Accept": "application/activity+json"})
    assert response.status == 200 and response.content_type == "application/activity+json"
    document = await response.json()
    assert document["id"] == authorization and document["type"] == "QuoteAuthorization"
    assert document["interactingObject"] == request["instrument"]["id"]
    assert document["interactionTarget"] == note_uri(post_id) and document["attributedTo"] == CITY


async def test_quote_requests_follow_the_account_policy(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    brigade, theatre = await publish(stadt, "feuerwehr"), await publish(stadt, "theater")
    assert (await mastodon.sign_and_post(stadt, quote_request(alice, brigade, "feuerwehr"), alice))[1] \
        == {"status": "quote_rejected"}
    assert (await mastodon.sign_and_post(stadt, quote_request(alice, theatre, "theater", 2), alice))[1] \
        == {"status": "quote_rejected"}
    await mastodon.sign_and_post(stadt, mastodon_follow(alice, URIS.actor("theater")), alice)
    assert (await mastodon.sign_and_post(stadt, quote_request(alice, theatre, "theater", 3), alice))[1] \
        == {"status": "quote_accepted"}
    await run_jobs(stadt)
    assert sorted(r.json["type"] for r in mastodon.received) == ["Accept", "Accept", "Reject", "Reject"]
    assert len(await rows(stadt, QuoteGrant)) == 1


async def test_erasing_the_quoting_person_withdraws_the_authorization(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await publish(stadt)
    await mastodon.sign_and_post(stadt, quote_request(alice, post_id), alice)
    [grant] = await rows(stadt, QuoteGrant)
    path = URIS.quote_authorization("stadt", grant.token).removeprefix(STADT)
    assert (await stadt.get(path)).status == 200
    delete = {"@context": AS_CONTEXT, "id": alice.uri + "#delete", "type": "Delete", "actor": alice.uri,
              "object": alice.uri}
    await mastodon.sign_and_post(stadt, delete, alice)
    response = await stadt.get(path)
    assert response.status == 404 and await response.json() == {"error": "not_found"}


async def test_account_delete_is_accepted_when_its_key_is_already_gone(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice)
    alice.gone = True
    stadt.app[FEDERATION].keys.forget(alice.key_id)  # e.g. after a restart: the key must be fetched again
    delete = {"@context": AS_CONTEXT, "id": alice.uri + "#delete", "type": "Delete", "actor": alice.uri,
              "to": [PUBLIC], "object": alice.uri}
    assert await mastodon.sign_and_post(stadt, delete, alice) == (202, {"status": "subject_erased"})
    async with stadt.app[SESSIONS]() as session:
        subject = await find_subject(session, vault(stadt), alice.uri)
    assert subject.wrapped_key is None


async def test_a_forged_account_delete_erases_nobody_while_the_account_exists(stadt, mastodon):
    alice = mastodon.add_actor("alice", key_index=0)
    await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice)
    delete = {"@context": AS_CONTEXT, "id": alice.uri + "#delete", "type": "Delete", "actor": alice.uri,
              "object": alice.uri}
    status, body = await mastodon.sign_and_post(stadt, delete, alice, key=fixed_key(1),
                                                key_id="http://mastodon.test/users/alice/other-key")
    assert (status, body) == (401, {"error": "key_fetch_failed"})
    async with stadt.app[SESSIONS]() as session:
        assert (await find_subject(session, vault(stadt), alice.uri)).wrapped_key is not None


async def test_delete_of_an_account_we_never_knew_is_dropped_without_any_fetch(stadt, mastodon):
    bob = mastodon.add_actor("bob")
    bob.gone = True
    delete = {"@context": AS_CONTEXT, "id": bob.uri + "#delete", "type": "Delete", "actor": bob.uri,
              "object": bob.uri}
    assert await mastodon.sign_and_post(stadt, delete, bob) == (202, {"status": "unknown_actor_deleted"})
    assert mastodon.fetched == [] and await rows(stadt, Subject) == []


async def test_a_valid_request_clears_the_domains_unavailable_mark(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await publish(stadt)
    today = utcnow()
    days = [(today - timedelta(days=n)).date().isoformat() for n in range(7)]
    async with stadt.app[SESSIONS].begin() as session:
        session.add(DeliveryHost(host="mastodon.test", consecutive_failures=12, failure_days=days,
                                 unavailable_since=today))
    await mastodon.sign_and_post(stadt, like_of(alice, post_id), alice)
    async with stadt.app[SESSIONS]() as session:
        host = await session.get(DeliveryHost, "mastodon.test")
    assert (host.consecutive_failures, host.failure_days, host.unavailable_since) == (0, [], None)


async def test_a_refused_request_does_not_clear_the_unavailable_mark(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    async with stadt.app[SESSIONS].begin() as session:
        session.add(DeliveryHost(host="mastodon.test", consecutive_failures=3, failure_days=[],
                                 unavailable_since=utcnow()))
    await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice, key=fixed_key(1))
    async with stadt.app[SESSIONS]() as session:
        assert (await session.get(DeliveryHost, "mastodon.test")).unavailable_since is not None
    assert await session_count(stadt, Subject) == 0


async def session_count(client, model) -> int:
    async with client.app[SESSIONS]() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_the_same_activity_arriving_twice_at_once_has_one_effect(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await publish(stadt)
    await mastodon.sign_and_post(stadt, like_of(alice, post_id, 1), alice)  # alice is known: no fetch races
    boost = {"@context": AS_CONTEXT, "id": alice.uri + "/statuses/5/activity", "type": "Announce",
             "actor": alice.uri, "object": note_uri(post_id), "to": [PUBLIC]}
    answers = await asyncio.gather(*(mastodon.sign_and_post(stadt, boost, alice) for _ in range(3)))
    assert all(status == 202 for status, _ in answers)
    assert sorted(body["status"] for _, body in answers).count("interaction_added") == 1
    assert len(await rows(stadt, Interaction)) == 2
