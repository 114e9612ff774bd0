"""Replies that arrive together are written together (group commit), with the same answers, rows and
audit entries as one by one; everything that is not the plain case is decided by the general pipeline."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from multidict import CIMultiDict

from sqlalchemy import select

from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.inbound.pipeline import receive
from bridge.inbound.request import Answer, InboundRequest, Parts
from bridge.store.db import utcnow
from bridge.delivery.domain_blocks import BlockReason, block
from bridge.web.activitypub.inbox import ACTOR_TURNS, REPLY_WRITER
from bridge.store.models import DeliveryHost, Post, PostState
from bridge.privacy.rights import object_person
from consent.auditlog import leaf_of
from consent.canonical import canonical_bytes
from consent.merkle import CompactTree, leaf_hash, root
from consent.models import Reply, Subject
from consent.models_privacy import AuditHead
from consent.replies import open_reply
from consent.subjects import known_actors
from fakes.fediverse import mastodon_reply
from support.inbox import CITY, audit, instances, mastodon, network, note_uri, publish, stadt, vault  # noqa: F401


async def introduce(client, instance, post_id: int, names: list[str]) -> list:
    """People whose first reply taught us their actor (and cached their key): the plain case after that."""
    people = []
    for name in names:
        person = instance.add_actor(name)
        reply = mastodon_reply(person, note_uri(post_id), CITY, number=0)
        assert (await instance.sign_and_post(client, reply, person))[1] == {"status": "reply_stored"}
        people.append(person)
    return people


async def send_together(client, instance, items: list[tuple]) -> list[tuple[int, dict]]:
    return list(await asyncio.gather(*(instance.sign_and_post(client, document, person)
                                       for document, person in items)))


async def opened_replies(client) -> dict[str, object]:
    async with client.app[SESSIONS]() as session:
        pairs = (await session.execute(select(Reply, Subject).join(Subject, Subject.id == Reply.subject_id))).all()
        opened = [open_reply(vault(client), subject, reply) for reply, subject in pairs]
    return {o.object_id: o for o in opened}


async def test_replies_arriving_together_are_stored_in_fewer_transactions_with_an_intact_audit_log(stadt, mastodon):
    post_id = await publish(stadt)
    people = await introduce(stadt, mastodon, post_id, ["anna", "ben", "cem", "dora"])
    writer = stadt.app[REPLY_WRITER]
    before = writer.batches
    burst = [(mastodon_reply(people[n % 4], note_uri(post_id), CITY, number=n, content=f"<p>Antwort {n}</p>"),
              people[n % 4]) for n in range(1, 41)]
    answers = await send_together(stadt, mastodon, burst)
    assert answers == [(202, {"status": "reply_stored"})] * 40
    assert 0 < writer.batches - before < 40  # written, and more than one per transaction
    assert len(await opened_replies(stadt)) == 44
    stored = await audit(stadt, "reply.stored")
    assert len(stored) == 44 and {e.details["account"] for e in stored} == {"stadt"}
    entries = await audit(stadt)
    assert [e.seq for e in entries] == list(range(len(entries)))  # gap-free
    assert all(e.leaf_hash == leaf_hash(canonical_bytes(leaf_of(e))) for e in entries)
    async with stadt.app[SESSIONS]() as session:
        head = await session.get(AuditHead, 1)
        frontier = [head.frontier[i:i + 32] for i in range(0, len(head.frontier), 32)]
    assert head.size == len(entries)
    assert CompactTree.from_state(head.size, frontier).root() == root([e.leaf_hash for e in entries])


async def decide_alone(client, instance, document: dict, person) -> Answer:
    """The general pipeline without the batching writer, over the same signed request: how one reply is
    decided on its own."""
    body = json.dumps(document).encode()
    headers = CIMultiDict(instance.signed_headers(person, str(client.make_url("/inbox")), body))
    app = client.app
    parts = Parts(app[CONFIG], app[FEDERATION], app[SESSIONS], app[ACTOR_TURNS])
    return await receive(parts, InboundRequest("POST", "/inbox", headers, body), None)


async def test_a_batched_reply_is_stored_exactly_as_one_decided_alone(stadt, mastodon):
    post_id = await publish(stadt)
    anna = mastodon.add_actor("anna")
    content = '<p>Gut!<script>alert(1)</script> <a href="https://example.org" onclick="x()">mehr</a></p>'
    alone = mastodon_reply(anna, note_uri(post_id), CITY, number=1, content=content)
    assert await decide_alone(stadt, mastodon, alone, anna) == Answer(202, "reply_stored")
    batches = stadt.app[REPLY_WRITER].batches
    batched = mastodon_reply(anna, note_uri(post_id), CITY, number=2, content=content)
    assert (await mastodon.sign_and_post(stadt, batched, anna))[1] == {"status": "reply_stored"}
    assert stadt.app[REPLY_WRITER].batches == batches + 1
    replies = await opened_replies(stadt)
    first, second = replies[alone["object"]["id"]], replies[batched["object"]["id"]]
    assert "script" not in second.content_html and 'rel="nofollow noopener noreferrer"' in second.content_html
    assert second.content_html == first.content_html and second.signals == first.signals
    assert (second.state, second.post_id, second.actor_name, second.subject_id) == \
        (first.state, first.post_id, first.actor_name, first.subject_id)
    assert second.url == batched["object"]["url"]
    assert second.retain_until - second.received_at == first.retain_until - first.received_at == timedelta(days=180)
    entries = await audit(stadt, "reply.stored")
    assert [(e.actor_ref, e.reason, e.details) for e in entries[-1:]] == \
        [(entries[0].actor_ref, entries[0].reason, entries[0].details)]


async def test_first_replies_of_people_never_met_are_written_together_as_the_general_path_writes_them(
        stadt, mastodon):
    """A thread that goes viral brings mostly first-time repliers: each costs its server one GET (the key,
    which brings the profile) and the batch creates their records; nobody waits for another's commit."""
    post_id = await publish(stadt)
    alone = mastodon.add_actor("alone")
    assert await decide_alone(stadt, mastodon, mastodon_reply(alone, note_uri(post_id), CITY, number=0),
                              alone) == Answer(202, "reply_stored")
    writer = stadt.app[REPLY_WRITER]
    batches, met = writer.batches, writer.newcomers
    people = [mastodon.add_actor(f"neu{n}") for n in range(12)]
    gets_before = len(mastodon.fetched)
    answers = await send_together(stadt, mastodon, [(mastodon_reply(p, note_uri(post_id), CITY, number=n + 1), p)
                                                   for n, p in enumerate(people)])
    assert answers == [(202, {"status": "reply_stored"})] * 12
    assert writer.newcomers - met == 12 and 0 < writer.batches - batches < 12
    assert len(mastodon.fetched) - gets_before == 12  # one GET per person: their key, which brought the profile
    async with stadt.app[SESSIONS]() as session:
        known = await known_actors(session, vault(stadt), [p.uri for p in [alone, *people]])
        assert len((await session.scalars(select(Subject))).all()) == 13
    general = known[alone.uri]
    for person in people:
        actor = known[person.uri]
        assert (actor.inbox, actor.shared_inbox, actor.handle, actor.name) == \
            (person.inbox, general.shared_inbox, f"@{person.name}@mastodon.test", person.name.title())
        assert actor.signals == general.signals and actor.subject.kind == general.subject.kind
    replies = await opened_replies(stadt)
    assert {r.subject_id for r in replies.values()} == {a.subject.id for a in known.values()}
    assert len({json.dumps(r.signals, sort_keys=True) for r in replies.values()}) == 1  # the same opt-out snapshot
    entries = await audit(stadt)
    assert [e.seq for e in entries] == list(range(len(entries)))
    assert len([e for e in entries if e.action == "reply.stored"]) == 13


async def test_what_is_not_the_plain_case_gets_the_general_answer_in_the_same_burst(stadt, mastodon, instances):
    post_id, gone_id = await publish(stadt), await publish(stadt)
    anna, ben, olga = await introduce(stadt, mastodon, post_id, ["anna", "ben", "olga"])
    async with stadt.app[SESSIONS].begin() as session:
        (await session.get(Post, gone_id)).state = PostState.DELETED
        await object_person(session, stadt.app[FEDERATION].vault, olga.uri, ("dpo", "user:1"))
    stranger = mastodon.add_actor("stranger")  # never met: the general path fetches her actor
    twice = mastodon_reply(anna, note_uri(post_id), CITY, number=5)
    same_note = {**mastodon_reply(ben, note_uri(post_id), CITY, number=6), "id": "http://mastodon.test/x/1"}
    same_note_again = {**same_note, "id": "http://mastodon.test/x/2"}
    burst = [(twice, anna), (twice, anna), (same_note, ben), (same_note_again, ben),
             (mastodon_reply(anna, note_uri(gone_id), CITY, number=7), anna),
             (mastodon_reply(olga, note_uri(post_id), CITY, number=8), olga),
             (mastodon_reply(stranger, note_uri(post_id), CITY, number=9), stranger)]
    answers = [body["status"] for _, body in await send_together(stadt, mastodon, burst)]
    assert sorted(answers[:2]) == ["duplicate", "reply_stored"]
    assert sorted(answers[2:4]) == ["already_done", "reply_stored"]
    assert answers[4:] == ["unknown_post", "subject_objected", "reply_stored"]
    replies = await opened_replies(stadt)
    assert {twice["object"]["id"], same_note["object"]["id"]} <= set(replies)
    assert len(replies) == 3 + 3  # the three introductions, anna's, ben's and the stranger's


async def test_a_blocked_server_is_refused_even_when_its_key_is_cached(stadt, instances):
    evil = await instances("evil.test")
    post_id = await publish(stadt)
    (eve,) = await introduce(stadt, evil, post_id, ["eve"])  # her key is in the cache now
    async with stadt.app[SESSIONS].begin() as session:
        await block(session, "evil.test", BlockReason.SPAM, "user:1", "stadt.test", utcnow())
    status, body = await evil.sign_and_post(stadt, mastodon_reply(eve, note_uri(post_id), CITY, number=2), eve)
    assert (status, body) == (403, {"error": "domain_blocked"})
    assert len(await opened_replies(stadt)) == 1
    assert [e.reason for e in await audit(stadt, "inbound.rejected")] == ["domain_blocked"]


async def test_a_stale_signature_with_a_cached_key_is_refused_as_before(stadt, mastodon):
    post_id = await publish(stadt)
    (anna,) = await introduce(stadt, mastodon, post_id, ["anna"])
    reply = mastodon_reply(anna, note_uri(post_id), CITY, number=3)
    status, body = await mastodon.sign_and_post(stadt, reply, anna, date=utcnow() - timedelta(hours=3))
    assert status == 401 and body["error"] == "expired"
    assert len(await opened_replies(stadt)) == 1


async def test_a_batched_reply_clears_its_servers_unavailable_mark(stadt, mastodon):
    post_id = await publish(stadt)
    (anna,) = await introduce(stadt, mastodon, post_id, ["anna"])
    today = utcnow()
    days = [(today - timedelta(days=n)).date().isoformat() for n in range(7)]
    async with stadt.app[SESSIONS].begin() as session:
        session.add(DeliveryHost(host="mastodon.test", consecutive_failures=12, failure_days=days,
                                 unavailable_since=today, open_until=today + timedelta(minutes=5)))
    batches = stadt.app[REPLY_WRITER].batches
    reply = mastodon_reply(anna, note_uri(post_id), CITY, number=4)
    assert (await mastodon.sign_and_post(stadt, reply, anna))[1] == {"status": "reply_stored"}
    assert stadt.app[REPLY_WRITER].batches == batches + 1
    async with stadt.app[SESSIONS]() as session:
        host = await session.get(DeliveryHost, "mastodon.test")
    assert (host.consecutive_failures, host.failure_days, host.unavailable_since, host.open_until) == (0, [], None, None)


async def test_first_activities_of_a_new_person_arriving_together_are_all_accepted(stadt, mastodon):
    """Without taking turns, each would fetch and create the person and all but one would fail on the
    unique key (503 conflict, the sender retries minutes later)."""
    post_id = await publish(stadt)
    erin = mastodon.add_actor("erin")
    burst = [(mastodon_reply(erin, note_uri(post_id), CITY, number=n, content=f"<p>Erste {n}</p>"), erin)
             for n in range(1, 7)]
    answers = await send_together(stadt, mastodon, burst)
    assert answers == [(202, {"status": "reply_stored"})] * 6
    assert len(await opened_replies(stadt)) == 6
    async with stadt.app[SESSIONS]() as session:
        assert len((await session.scalars(select(Subject))).all()) == 1
    assert len(stadt.app[ACTOR_TURNS]) == 0  # a turn is kept only while someone holds or awaits it
