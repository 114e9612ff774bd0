"""A citizen on Mastodon follows the city, replies, likes, boosts, takes things back and leaves."""

from __future__ import annotations

from sqlalchemy import func, select

from activitypub.uris import PUBLIC
from bridge.appkeys import SESSIONS
from bridge.store.models import Job
from consent.interactions import count_for
from consent.models import Follower, Interaction, RemoteActor, Reply, Subject
from consent.replies import open_reply
from consent.subjects import find_subject
from fakes.fediverse import mastodon_follow, mastodon_reply, undo
from support.inbox import CITY, audit, instances, mastodon, network, note_uri, publish, run_jobs, stadt, vault  # noqa: F401


async def count(client, model, **where) -> int:
    async with client.app[SESSIONS]() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return await session.scalar(query)


async def test_follow_is_stored_and_answered_with_an_accept_signed_by_the_city(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    follow = mastodon_follow(alice, CITY)
    status, body = await mastodon.sign_and_post(stadt, follow, alice, path="/users/stadt/inbox")
    assert (status, body) == (202, {"status": "follower_added"})
    assert await count(stadt, Follower, actor_name="stadt") == 1
    jobs = await count(stadt, Job, kind="deliver_direct")
    assert jobs == 1
    await run_jobs(stadt)
    [accept] = [r for r in mastodon.received if r.path == "/users/alice/inbox"]
    assert accept.verified, "our signature must verify against the key our actor document publishes"
    assert accept.key_id == CITY + "#main-key"
    assert accept.json["type"] == "Accept" and accept.json["actor"] == CITY
    assert accept.json["object"]["id"] == follow["id"] and accept.json["object"]["type"] == "Follow"
    # The actor was fetched with a signed GET (the instance actor), as secure-mode servers require, and once:
    # the document that carried her key also gave the profile the Follow needs.
    assert mastodon.fetched == [("/users/alice", True)]


async def test_a_new_persons_first_reply_costs_their_server_one_fetch_with_either_key_style(stadt, instances):
    post_id = await publish(stadt)
    for host, software, key_paths in (("mastodon.test", "mastodon", []),
                                      ("gts.test", "gotosocial", ["/users/bea/main-key"])):
        server = await instances(host, software)
        bea = server.add_actor("bea")
        reply = mastodon_reply(bea, note_uri(post_id), CITY, content="<p>Gut so!</p>")
        assert await server.sign_and_post(stadt, reply, bea) == (202, {"status": "reply_stored"})
        # Mastodon's keyId is the actor document; GoToSocial's is a stub, and the owner is fetched after it.
        assert [path for path, _ in server.fetched] == key_paths + ["/users/bea"], software


async def test_full_flow_from_follow_to_unfollow(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await publish(stadt)
    follow = mastodon_follow(alice, CITY)
    assert (await mastodon.sign_and_post(stadt, follow, alice))[0] == 202

    reply = mastodon_reply(alice, note_uri(post_id), CITY, content="<p>Danke!<script>alert(1)</script></p>")
    assert await mastodon.sign_and_post(stadt, reply, alice) == (202, {"status": "reply_stored"})
    async with stadt.app[SESSIONS]() as session:
        stored = await session.scalar(select(Reply))
        subject = await session.get(Subject, stored.subject_id)
        opened = open_reply(vault(stadt), subject, stored)
    assert opened.post_id == post_id and opened.state == "pending" and "script" not in opened.content_html
    assert stored.legal_basis == "gdpr_6_1_e" and stored.signals["public"] is True
    assert (stored.retain_until - stored.received_at).days == 180

    like = {"@context": "https://www.w3.org/ns/activitystreams", "id": alice.uri + "#likes/1", "type": "Like",
            "actor": alice.uri, "object": note_uri(post_id)}
    boost = {"@context": "https://www.w3.org/ns/activitystreams", "id": alice.uri + "/statuses/2/activity",
             "type": "Announce", "actor": alice.uri, "object": note_uri(post_id), "to": [PUBLIC], "cc": [CITY]}
    assert (await mastodon.sign_and_post(stadt, like, alice))[1] == {"status": "interaction_added"}
    assert (await mastodon.sign_and_post(stadt, boost, alice))[1] == {"status": "interaction_added"}
    async with stadt.app[SESSIONS]() as session:
        assert (await count_for(session, [post_id]))[post_id] == {"likes": 1, "boosts": 1, "replies": 1}

    assert (await mastodon.sign_and_post(stadt, undo(alice, like), alice))[1] == {"status": "interaction_removed"}
    delete_reply = {"@context": "https://www.w3.org/ns/activitystreams", "id": reply["object"]["id"] + "#delete",
                    "type": "Delete", "actor": alice.uri,
                    "object": {"id": reply["object"]["id"], "type": "Tombstone"}}
    assert (await mastodon.sign_and_post(stadt, delete_reply, alice))[1] == {"status": "reply_erased"}
    async with stadt.app[SESSIONS]() as session:
        assert (await count_for(session, [post_id]))[post_id] == {"likes": 0, "boosts": 1, "replies": 0}

    assert (await mastodon.sign_and_post(stadt, undo(alice, follow), alice))[1] == {"status": "follower_removed"}
    assert await count(stadt, Follower) == 0
    actions = [e.action for e in await audit(stadt) if e.action != "key.created"]
    assert actions[-7:] == ["follower.added", "reply.stored", "interaction.added", "interaction.added",
                            "interaction.removed", "reply.erased", "follower.removed"]


async def test_delete_of_the_account_erases_everything_and_destroys_the_key(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    post_id = await publish(stadt)
    await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice)
    await mastodon.sign_and_post(stadt, mastodon_reply(alice, note_uri(post_id), CITY), alice)
    like = {"id": alice.uri + "#likes/1", "type": "Like", "actor": alice.uri, "object": note_uri(post_id)}
    await mastodon.sign_and_post(stadt, like, alice)
    delete = {"id": alice.uri + "#delete", "type": "Delete", "actor": alice.uri, "to": [PUBLIC],
              "object": alice.uri}
    assert await mastodon.sign_and_post(stadt, delete, alice) == (202, {"status": "subject_erased"})
    for model in (Follower, Reply, Interaction, RemoteActor):
        assert await count(stadt, model) == 0, model.__name__
    async with stadt.app[SESSIONS]() as session:
        subject = await find_subject(session, vault(stadt), alice.uri)
    assert subject is not None and subject.wrapped_key is None and subject.erased_at is not None
    [entry] = await audit(stadt, "subject.erased")
    assert entry.subject_ref == subject.pseudonym and entry.details["replies"] == 1
    # The queued Accept to the erased person is not sent.
    await run_jobs(stadt)
    assert not [r for r in mastodon.received if r.json and r.json.get("type") == "Accept"]
