"""Our posts reach followers' servers: one delivery per server, signed, in order, with retries."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from sqlalchemy import select

from bridge.queue import jobs
from bridge.publishing import posts
from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.app import WORKER
from bridge.store.db import utcnow
from bridge.store.models import DeliveryHost, Job, JobState, Post, Role
from bridge.publishing.posts import Draft
from bridge.auth.users import find_user
from consent.models import Follower
from fakes.fediverse import mastodon_follow, mastodon_reply
from support.inbox import CITY, instances, mastodon, network, note_uri, run_jobs, stadt  # noqa: F401
from testkit import add_user


@pytest.fixture
async def editor(stadt, test_password_hash):
    async with stadt.app[SESSIONS].begin() as s:
        await add_user(s, "erika", Role.EDITOR, ["stadt"], test_password_hash)


async def follow(stadt, instance, *names):
    actors = [instance.add_actor(name) for name in names]
    for actor in actors:
        assert (await instance.sign_and_post(stadt, mastodon_follow(actor, CITY), actor))[0] == 202
    await run_jobs(stadt)  # the Accepts
    instance.received.clear()
    return actors


async def write(stadt, text: str, edit_of: int | None = None, delete: int | None = None) -> int:
    config = stadt.app[CONFIG]
    async with stadt.app[SESSIONS].begin() as s:
        user = await find_user(s, "erika")
        if delete is not None:
            assert (await posts.delete_post(s, user, await s.get(Post, delete))).ok
            return delete
        if edit_of is not None:
            result = await posts.edit_post(s, config, user, await s.get(Post, edit_of), Draft("stadt", text))
        else:
            result = await posts.create_post(s, config, user, Draft("stadt", text))
        assert result.ok, result.reason
        return result.post.id


def activities(instance, path: str | None = None) -> list[tuple[str, str]]:
    return [(r.json["type"], r.json["object"]["id"] if isinstance(r.json["object"], dict) else r.json["object"])
            for r in instance.received if path is None or r.path == path]


async def test_one_delivery_per_server_signed_by_the_city(stadt, instances, editor):
    mastodon = await instances("mastodon.test")
    gts = await instances("gts.test", software="gotosocial")  # no shared inbox: personal inboxes
    await follow(stadt, mastodon, "alice", "bob", "carol")
    await follow(stadt, gts, "dora", "emil")
    post_id = await write(stadt, "Die Stadtbibliothek öffnet am Samstag. #Lesen")
    await run_jobs(stadt)
    assert [(r.path, r.json["type"]) for r in mastodon.received] == [("/inbox", "Create")]
    assert sorted(r.path for r in gts.received) == ["/users/dora/inbox", "/users/emil/inbox"]
    for received in mastodon.received + gts.received:
        assert received.verified and received.key_id == CITY + "#main-key"
        note = received.json["object"]
        assert note["id"] == note_uri(post_id) and "#Lesen" in str(note["tag"])
        assert received.json["id"] == f"{note_uri(post_id)}/activity#create"


async def test_a_posts_fanouts_run_one_after_the_other_so_deliveries_queue_in_order(stadt, instances, editor):
    """Run at once, the Update's fan-out could queue its deliveries before the Create's: they would then
    go first, since a delivery waits only for deliveries queued before it."""
    await follow(stadt, await instances("mastodon.test"), "alice")
    post_id = await write(stadt, "Erste Fassung")
    await write(stadt, "Zweite Fassung", edit_of=post_id)
    async with stadt.app[SESSIONS]() as s:
        claimed = await jobs.claim(s, "probe", 10)
    assert [(j.kind, j.payload["verb"]) for j in claimed] == [("fanout", "create")]  # the Update's waits
    async with stadt.app[SESSIONS].begin() as s:
        await jobs.finish(s, claimed[0], "probe")
    async with stadt.app[SESSIONS]() as s:
        assert [(j.kind, j.payload["verb"]) for j in await jobs.claim(s, "probe", 10)] == [("fanout", "update")]


async def test_edits_and_deletes_follow_in_order_also_to_repliers(stadt, instances, editor):
    mastodon = await instances("mastodon.test")
    other = await instances("other.test")
    await follow(stadt, mastodon, "alice")
    post_id = await write(stadt, "Erste Fassung")
    # Edit and delete before the worker ran: the Create must still go first to every inbox.
    await write(stadt, "Zweite Fassung", edit_of=post_id)
    await run_jobs(stadt)
    assert [t for t, _ in activities(mastodon)] == ["Create", "Update"]
    update = mastodon.received[1].json
    assert update["object"]["content"] == "<p>Zweite Fassung</p>" and "updated" in update["object"]
    # Someone on another server replied: they hear of the deletion too.
    zoe = other.add_actor("zoe")
    assert (await other.sign_and_post(stadt, mastodon_reply(zoe, note_uri(post_id), CITY), zoe))[0] == 202
    mastodon.received.clear()
    await write(stadt, "", delete=post_id)
    await run_jobs(stadt)
    assert activities(mastodon) == [("Delete", note_uri(post_id))]
    assert activities(other) == [("Delete", note_uri(post_id))]
    assert other.received[0].json["object"]["type"] == "Tombstone"


async def test_a_dead_signing_process_costs_no_delivery(stadt, instances, editor):
    mastodon = await instances("mastodon.test")
    gts = await instances("gts.test", software="gotosocial")  # personal inboxes: several signatures
    await follow(stadt, mastodon, "alice")
    await follow(stadt, gts, *(f"p{n}" for n in range(6)))
    await write(stadt, "Signiert vom Signierprozess")
    await run_jobs(stadt)
    federation = stadt.app[FEDERATION]
    assert federation.signing is not None and federation.signing._processes  # it signed those
    for pid in list(federation.signing._processes):
        os.kill(pid, signal.SIGKILL)
    mastodon.received.clear()
    gts.received.clear()
    await write(stadt, "Signiert trotz allem")
    await run_jobs(stadt)
    assert [t for t, _ in activities(mastodon)] == ["Create"]
    assert sorted(r.path for r in gts.received) == sorted(f"/users/p{n}/inbox" for n in range(6))
    assert all(r.verified for r in mastodon.received + gts.received)
    async with stadt.app[SESSIONS]() as s:
        states = (await s.scalars(select(Job.state).where(Job.kind == "deliver"))).all()
    assert states and set(states) == {JobState.DONE}  # none waits for a retry


async def test_a_failing_server_is_retried_later_and_others_are_not_held_up(stadt, instances, editor):
    down = await instances("down.test")
    up = await instances("up.test")
    await follow(stadt, down, "alice")
    await follow(stadt, up, "bob")
    down.answers = [(503, {"Retry-After": "120"})]
    await write(stadt, "Hallo")
    await run_jobs(stadt)
    assert [t for t, _ in activities(up)] == ["Create"]
    async with stadt.app[SESSIONS]() as s:
        job = await s.scalar(select(Job).where(Job.kind == "deliver", Job.state == JobState.QUEUED))
        host = await s.get(DeliveryHost, "down.test")
    assert job.last_error == "http:503" and job.attempts == 1
    assert (job.run_at - utcnow()).total_seconds() > 100  # Retry-After honoured
    assert host.consecutive_failures == 1
    async with stadt.app[SESSIONS].begin() as s:
        (await s.get(Job, job.id)).run_at = utcnow()
    await run_jobs(stadt)
    assert [t for t, _ in activities(down)] == ["Create", "Create"]  # the failed try, then the retry
    async with stadt.app[SESSIONS]() as s:
        assert (await s.get(Job, job.id)).state == JobState.DONE
        assert (await s.get(DeliveryHost, "down.test")).consecutive_failures == 0


async def test_final_refusals_are_not_retried_and_gone_inboxes_end_the_follow(stadt, instances, editor):
    gts = await instances("gts.test", software="gotosocial")
    await follow(stadt, gts, "alice", "bob")
    gts.answers = [(410, {}), (403, {})]
    await write(stadt, "Hallo")
    await run_jobs(stadt)
    async with stadt.app[SESSIONS]() as s:
        states = sorted((j.state, j.last_error or "") for j in
                        (await s.scalars(select(Job).where(Job.kind == "deliver"))).all())
        followers = (await s.scalars(select(Follower))).all()
    assert states == [(JobState.DONE, ""), (JobState.FAILED, "rejected:403")]
    assert len(followers) == 1  # the account whose inbox answered 410 no longer follows


async def test_unavailable_hosts_are_skipped_until_they_speak_again(stadt, instances, editor):
    dead = await instances("dead.test")
    alice = (await follow(stadt, dead, "alice"))[0]
    async with stadt.app[SESSIONS].begin() as s:
        s.add(DeliveryHost(host="dead.test", consecutive_failures=30, failure_days=[f"2026-11-0{d}" for d in range(1, 8)],
                           unavailable_since=utcnow()))
    await write(stadt, "Hallo")
    await run_jobs(stadt)
    assert dead.received == []
    # Any valid signed request from the host proves it is back.
    assert (await dead.sign_and_post(stadt, mastodon_follow(alice, CITY, 2), alice))[0] == 202
    async with stadt.app[SESSIONS]() as s:
        assert (await s.get(DeliveryHost, "dead.test")).unavailable_since is None


async def test_a_slow_server_does_not_hold_up_deliveries_to_others(stadt, instances, editor):
    slow = await instances("slow.test")
    fast = await instances("fast.test")
    await follow(stadt, slow, "alice")
    await follow(stadt, fast, "bob")
    slow.delay, slow.answered = 3.0, 0
    worker = stadt.app[WORKER]
    worker.poll_seconds = 0.05
    running = asyncio.create_task(worker.run_forever())
    try:
        first = await write(stadt, "Erster Beitrag")
        await wait_for(lambda: len(fast.received) == 1)
        second = await write(stadt, "Zweiter Beitrag")
        await wait_for(lambda: len(fast.received) == 2)
        assert slow.answered == 0, "the second post reached the fast server while the slow one still waited"
        assert [r.json["object"]["id"] for r in fast.received] == [note_uri(first), note_uri(second)]
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def wait_for(condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_a_large_fan_out_refreshes_the_queue_statistics_and_still_delivers(stadt, instances, editor,
                                                                                  monkeypatch):
    # From ANALYZE_AFTER deliveries on, PostgreSQL runs ANALYZE in the fan-out's transaction (SQLite: no-op).
    from bridge.delivery import jobs as delivery
    monkeypatch.setattr(delivery, "ANALYZE_AFTER", 2)
    gts = await instances("gts.test", software="gotosocial")
    await follow(stadt, gts, "dora", "emil", "fritz")
    await write(stadt, "Hallo")
    await run_jobs(stadt)
    assert sorted(r.path for r in gts.received) == ["/users/dora/inbox", "/users/emil/inbox", "/users/fritz/inbox"]
    assert all(r.verified for r in gts.received)
