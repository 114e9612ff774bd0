"""Delivering our activities: one fan-out job per post change becomes one delivery job per inbox.

Each delivery job rebuilds its activity from the post when it runs, signs it and POSTs it. Jobs for
the same post and inbox share an ordering key, so an Update or Delete never overtakes the Create.
"""

from __future__ import annotations

import asyncio
import enum
import json
from datetime import datetime, timedelta
from typing import Callable
from urllib.parse import urlsplit

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub import vocab
from activitypub.delivery import CONTENT_TYPE, DeliveryOutcome, DeliveryResult, deliver
from activitypub.signing import Signer
from bridge.queue import jobs
from bridge.convert.activitypub import actor_to_document, post_to_note
from bridge.store.db import is_postgres, utcnow
from bridge.runtime.metrics import count_delivery
from bridge.delivery.domain_blocks import blocked_hosts
from bridge.delivery.hosts import host_health, record_failure, record_success, unavailable_hosts
from bridge.delivery.mentions import mention_inboxes, resolve_mentions
from bridge.store.models import Actor, DeliveryHost, Job, JobState, Post, PostState
from bridge.store.polls import poll_of
from bridge.queue.context import JobOutcome, JobStatus, Settled, WorkerContext
from consent.audience import interacted_inboxes, subjects_with_inbox
from consent.audit import Action, Event, Outcome, record
from consent.followers import Inbox, follower_inboxes, remove_follower
from consent.subjects import known_actor

FANOUT_JOB = "fanout"
DELIVER_JOB = "deliver"
DIRECT_JOB = "deliver_direct"
ACTOR_UPDATE_JOB = "actor_update"  # Update of one of our actors (a new key) to every follower's server
DELIVERY_ATTEMPTS = 16  # Mastodon's: about n⁴+15 s apart, some 2-3 days in all
SEND_CONCURRENCY = 32  # requests in flight per batch; the client also caps connections per host
ANALYZE_AFTER = 1000  # fan-outs this large refresh the job table's statistics (PostgreSQL)
SIGN_CHUNK = 16  # requests signed together (one call to a signing process)
SIGNED_AHEAD = 2  # chunks signed and waiting to be sent, besides the one being signed


class DeliveryReason(enum.StrEnum):
    POST_GONE = "post_gone"
    NOTHING_TO_SEND = "nothing_to_send"
    DOMAIN_BLOCKED = "domain_blocked"
    UNKNOWN_LOCAL_ACTOR = "unknown_local_actor"
    HOST_UNAVAILABLE = "host_unavailable"
    CIRCUIT_OPEN = "circuit_open"
    GONE = "gone"
    HTTP_ERROR = "http"  # with the status as detail: "http:503"
    UNREACHABLE = "unreachable"
    REJECTED = "rejected"
    REFUSED = "refused"

    @property
    def description(self) -> str:
        return DELIVERY_TEXT[self]


DELIVERY_TEXT = {
    DeliveryReason.POST_GONE: "the post no longer exists",
    DeliveryReason.NOTHING_TO_SEND: "the post is no longer public: nothing to send",
    DeliveryReason.DOMAIN_BLOCKED: "the receiving server is blocked",
    DeliveryReason.UNKNOWN_LOCAL_ACTOR: "the sending account does not exist here",
    DeliveryReason.HOST_UNAVAILABLE: "the receiving server has been unreachable for days",
    DeliveryReason.CIRCUIT_OPEN: "the receiving server failed repeatedly: waiting before the next try",
    DeliveryReason.GONE: "the inbox is gone (HTTP 410): that account no longer follows",
    DeliveryReason.HTTP_ERROR: "the receiving server answered with an error status; tried again",
    DeliveryReason.UNREACHABLE: "the receiving server could not be reached; tried again",
    DeliveryReason.REJECTED: "the receiving server refused the activity",
    DeliveryReason.REFUSED: "the inbox address is not allowed (private network or bad scheme)",
}


class Verb(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    PIN = "pin"  # Add to the featured collection
    UNPIN = "unpin"  # Remove from it
    TALLY = "tally"  # Update(Question) with a poll's new counts: not an edit, so no `updated`


async def enqueue_fanout(session: AsyncSession, post: Post, verb: Verb) -> Job:
    """Called in the transaction that changes the post (transactional outbox). A post's fan-outs run one
    after the other (ordering key): two running at once could queue the Update's deliveries before the
    Create's, and the deliveries' own ordering follows the order they were queued in."""
    return await jobs.enqueue(session, FANOUT_JOB, {"post_id": post.id, "verb": str(verb)}, post_id=post.id,
                              ordering_key=f"fanout|{post.id}")


async def enqueue_direct(session: AsyncSession, actor_name: str, inbox: str, document: dict,
                         subject_id: int | None = None) -> Job:
    """One prepared activity (an Accept, a Reject) to one inbox; `subject_id` lets erasure cancel it."""
    payload = {"actor": actor_name, "inbox": inbox, "document": document, "subject_id": subject_id}
    return await jobs.enqueue(session, DIRECT_JOB, payload, max_attempts=DELIVERY_ATTEMPTS)


async def enqueue_actor_update(session: AsyncSession, actor_name: str) -> Job:
    """Called in the transaction that changed the actor (its key): the worker sends the actor as it is then."""
    return await jobs.enqueue(session, ACTOR_UPDATE_JOB, {"actor": actor_name},
                              ordering_key=f"actor_update|{actor_name}")


async def handle_actor_update(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    """`Update` of the actor document (with its current publicKey) to one inbox per follower's server,
    each through a direct delivery job: signed when it runs, with the key the database holds then."""
    name = job.payload["actor"]
    actor, actor_config = await session.scalar(select(Actor).where(Actor.name == name)), ctx.config.actor(name)
    if actor is None or actor_config is None:
        return JobOutcome(JobStatus.FAILED, DeliveryReason.UNKNOWN_LOCAL_ACTOR)
    uris = ctx.federation.uris
    document = vocab.update(uris, name, actor_to_document(actor, actor_config, ctx.config, uris), utcnow())
    return await send_to_followers(ctx, session, name, document)


async def send_to_followers(ctx: WorkerContext, session: AsyncSession, name: str, document: dict) -> JobOutcome:
    """One direct delivery job per follower's server (the account's Update, its Move), blocked and
    unavailable hosts left out."""
    inboxes = await follower_inboxes(session, ctx.federation.vault, name)
    skip = await unavailable_hosts(session) | await blocked_hosts(session, {_host(i.url) for i in inboxes})
    sent = [i for i in inboxes if _host(i.url) not in skip]
    for inbox in sent:
        await enqueue_direct(session, name, inbox.url, document)
    return JobOutcome(JobStatus.DONE, None if sent else DeliveryReason.NOTHING_TO_SEND)


async def _audience(ctx: WorkerContext, session: AsyncSession, post: Post, verb: Verb) -> list[Inbox]:
    inboxes = {i.url: i for i in await follower_inboxes(session, ctx.federation.vault, post.actor.name)}
    if verb is not Verb.CREATE:
        for inbox in await interacted_inboxes(session, ctx.federation.vault, post.id):
            inboxes.setdefault(inbox.url, inbox)
    if post.in_reply_to_actor:  # an answer as the account reaches the person answered (cc + Mention)
        author = await known_actor(session, ctx.federation.vault, post.in_reply_to_actor)
        if author is not None:
            url = author.shared_inbox or author.inbox
            inboxes.setdefault(url, Inbox(url, author.shared_inbox is not None))
    for inbox in await mention_inboxes(ctx, session, post):  # mentioned accounts, followers or not
        inboxes.setdefault(inbox.url, inbox)
    poll = await poll_of(session, post) if verb is Verb.TALLY else None
    if poll is not None:  # voters' servers, followers or not
        for url in poll.voter_inboxes:
            inboxes.setdefault(url, Inbox(url, True))
    skip = await unavailable_hosts(session) | await blocked_hosts(session, {_host(u) for u in inboxes})
    return [i for i in inboxes.values() if (urlsplit(i.url).hostname or "") not in skip]


async def handle_fanout(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    post = await session.get(Post, int(job.payload["post_id"]))
    verb = Verb(job.payload["verb"])
    if post is None:
        return JobOutcome(JobStatus.DONE, DeliveryReason.POST_GONE)
    if verb is not Verb.DELETE and post.state == PostState.PUBLISHED:
        await resolve_mentions(ctx, session, post)  # WebFinger first, so the Note names their actor ids
    inboxes = await _audience(ctx, session, post, verb)
    now = utcnow()
    rows = [{"kind": DELIVER_JOB, "state": JobState.QUEUED, "post_id": post.id, "run_at": now, "attempts": 0,
             "priority": job.priority,  # a warning's deliveries overtake a routine fan-out's
             "max_attempts": DELIVERY_ATTEMPTS, "created_at": now, "ordering_key": f"{post.id}|{i.url}",
             "payload": {"post_id": post.id, "verb": str(verb), "inbox": i.url, "actor": post.actor.name}}
            for i in inboxes]
    if rows:  # a Core insert: thousands of rows, and no ORM objects needed
        await session.execute(insert(Job.__table__), rows)
        if len(rows) >= ANALYZE_AFTER and is_postgres(session.bind):
            # With statistics from before, PostgreSQL plans each claim for a nearly empty queue and checks
            # every due job's ordering key before sorting: a second per claim instead of milliseconds.
            await session.execute(text("ANALYZE job"))
    await record(session, Event(Action.POST_FEDERATED, "system", "system", subject_ref=f"post:{post.id}",
                                details={"verb": str(verb), "inboxes": len(rows)}))
    return JobOutcome(JobStatus.DONE)


def build_activity(ctx: WorkerContext, post: Post, verb: Verb) -> dict | None:
    uris, name = ctx.federation.uris, post.actor.name
    if verb is Verb.DELETE:
        return vocab.delete(uris, name, str(post.id))
    if post.state != PostState.PUBLISHED:
        return None  # deleted meanwhile: its Delete follows; a late Create would resurrect it
    if verb in (Verb.PIN, Verb.UNPIN):
        return vocab.featured_change(uris, name, str(post.id), verb is Verb.PIN, post.edited_at or post.published_at)
    note = post_to_note(post, ctx.config, uris)
    if verb is Verb.UPDATE:
        return vocab.update(uris, name, note, post.edited_at or post.published_at)
    if verb is Verb.TALLY:  # each tally its own activity id: receivers drop repeated ids
        return vocab.update(uris, name, note, utcnow())
    return vocab.create(uris, name, str(post.id), note)


async def deliver_batch(ctx: WorkerContext, batch: list[Job], settled: Settled) -> list[JobOutcome]:
    """Delivers many post activities at once: each document is built and serialised once per batch,
    requests are signed a chunk at a time shortly before they are sent (see `_send`), sends run
    concurrently, and the bookkeeping that is needed at all is one transaction. Each delivery a healthy
    host accepted is told to `settled` at once, so a crash later in the batch does not send it again."""
    now = utcnow()
    hosts = [_host(job.payload["inbox"]) for job in batch]
    async with ctx.sessions() as session:
        post_ids = {int(job.payload["post_id"]) for job in batch}
        loaded = {p.id: p for p in (await session.scalars(select(Post).where(Post.id.in_(post_ids)))).all()}
        bodies = {key: _body(ctx, loaded.get(key[0]), Verb(key[1]))
                  for key in {(int(j.payload["post_id"]), j.payload["verb"]) for j in batch}}
        health = await host_health(session, set(hosts))
        refused = await blocked_hosts(session, set(hosts))
        signers = {name: await ctx.federation.signer(session, name) for name in {j.payload["actor"] for j in batch}}
    outcomes: list[JobOutcome | None] = [None] * len(batch)
    sendable: list[tuple[int, Signer, bytes]] = []
    for i, (job, host) in enumerate(zip(batch, hosts)):
        body = bodies[(int(job.payload["post_id"]), job.payload["verb"])]
        blocked = _blocked(health.get(host), now)
        if host in refused:  # blocked after the job was queued
            blocked = JobOutcome(JobStatus.FAILED, DeliveryReason.DOMAIN_BLOCKED)
        signer = signers[job.payload["actor"]]
        if body is None or blocked is not None:
            outcomes[i] = blocked or JobOutcome(JobStatus.DONE, DeliveryReason.NOTHING_TO_SEND)
        elif signer is None:
            outcomes[i] = JobOutcome(JobStatus.FAILED, DeliveryReason.UNKNOWN_LOCAL_ACTOR)
        else:
            sendable.append((i, signer, body))

    def accepted(i: int, result: DeliveryResult) -> None:
        if _healthy_success(result, hosts[i], health):
            settled.done(batch[i])

    results = await _send(ctx, batch, sendable, accepted)
    concluded = [i for i, result in results.items() if not _healthy_success(result, hosts[i], health)]
    for i in results.keys() - set(concluded):
        outcomes[i] = JobOutcome(JobStatus.DONE)  # the common case: a healthy host said yes, no bookkeeping
    if concluded:
        async with ctx.sessions.begin() as session:
            for i in concluded:
                outcomes[i] = await _conclude(ctx, session, hosts[i], batch[i].payload["inbox"], results[i], now)
    assert all(outcome is not None for outcome in outcomes)
    return outcomes  # type: ignore[return-value]


async def _send(ctx: WorkerContext, batch: list[Job], sendable: list[tuple[int, Signer, bytes]],
                answered: Callable[[int, DeliveryResult], None]) -> dict[int, DeliveryResult]:
    """Signs and sends, at most SEND_CONCURRENCY requests in flight. Signing runs a few chunks ahead of
    sending (in the signing processes, while this loop sends), never more: requests held up behind slow
    servers should not wait signed for long."""
    limit = asyncio.Semaphore(SEND_CONCURRENCY)
    results: dict[int, DeliveryResult] = {}
    chunks = [sendable[start:start + SIGN_CHUNK] for start in range(0, len(sendable), SIGN_CHUNK)]
    signed_ahead: asyncio.Queue[list[tuple[tuple[int, Signer, bytes], dict[str, str]]]] = asyncio.Queue(
        SIGNED_AHEAD)

    async def sign() -> None:
        for chunk in chunks:
            headers = await ctx.federation.sign_posts(
                [(signer, batch[i].payload["inbox"], body) for i, signer, body in chunk], CONTENT_TYPE)
            await signed_ahead.put(list(zip(chunk, headers)))

    async def send(i: int, signer: Signer, body: bytes, headers: dict[str, str]) -> None:
        try:
            results[i] = await deliver(ctx.federation.http, batch[i].payload["inbox"], body, signer.key_id,
                                       signer.private_key, signed=headers)
            count_delivery(results[i].outcome)
            answered(i, results[i])
        finally:
            limit.release()

    signing = asyncio.create_task(sign())
    tasks: list[asyncio.Task] = []
    try:
        for _ in chunks:
            for (i, signer, body), headers in await _next(signed_ahead, signing):
                await limit.acquire()
                tasks.append(asyncio.create_task(send(i, signer, body, headers)))
        await asyncio.gather(*tasks)
    finally:
        signing.cancel()
        for task in tasks:
            task.cancel()  # only matters when we were cancelled or a send crashed
    return results


async def _next(queue: asyncio.Queue, producer: asyncio.Task):
    """The next item, or the producer's exception if it failed before putting one."""
    if queue.empty() and not producer.done():
        getting = asyncio.ensure_future(queue.get())
        await asyncio.wait([getting, producer], return_when=asyncio.FIRST_COMPLETED)
        if getting.done():
            return getting.result()
        getting.cancel()
    if not queue.empty():  # the producer may have put its last items and ended
        return queue.get_nowait()
    producer.result()  # raises what stopped it
    raise RuntimeError("signing stopped before every chunk was signed")


def _healthy_success(result: DeliveryResult, host: str, health: dict[str, DeliveryHost]) -> bool:
    # The common case — a healthy host said yes — needs no bookkeeping at all.
    return result.outcome is DeliveryOutcome.DELIVERED and host not in health


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _body(ctx: WorkerContext, post: Post | None, verb: Verb) -> bytes | None:
    document = build_activity(ctx, post, verb) if post is not None else None
    return None if document is None else json.dumps(document, separators=(",", ":")).encode()


def _blocked(host: DeliveryHost | None, now: datetime) -> JobOutcome | None:
    if host is None:
        return None
    if host.unavailable_since is not None:
        return JobOutcome(JobStatus.FAILED, DeliveryReason.HOST_UNAVAILABLE)
    if host.open_until is not None and host.open_until > now:
        return JobOutcome(JobStatus.DEFER, DeliveryReason.CIRCUIT_OPEN, host.open_until)
    return None


async def handle_direct(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    inbox, now = job.payload["inbox"], utcnow()
    if await blocked_hosts(session, {_host(inbox)}):
        return JobOutcome(JobStatus.FAILED, DeliveryReason.DOMAIN_BLOCKED)
    blocked = _blocked((await host_health(session, {_host(inbox)})).get(_host(inbox)), now)
    if blocked is not None:
        return blocked
    signer = await ctx.federation.signer(session, job.payload["actor"])
    if signer is None:
        return JobOutcome(JobStatus.FAILED, DeliveryReason.UNKNOWN_LOCAL_ACTOR)
    result = await deliver(ctx.federation.http, inbox, job.payload["document"], signer.key_id, signer.private_key)
    count_delivery(result.outcome)
    return await _conclude(ctx, session, _host(inbox), inbox, result, now)


async def _conclude(ctx: WorkerContext, session: AsyncSession, host: str, inbox: str, result: DeliveryResult,
                    now: datetime) -> JobOutcome:
    outcome = result.outcome
    if outcome is DeliveryOutcome.DELIVERED:
        await record_success(session, host, now)
        return JobOutcome(JobStatus.DONE)
    if outcome is DeliveryOutcome.GONE:
        await _drop_gone(ctx, session, host, inbox)
        return JobOutcome(JobStatus.DONE, DeliveryReason.GONE)
    await record_failure(session, host, now, counts=outcome is DeliveryOutcome.RETRY)
    if outcome is DeliveryOutcome.RETRY:
        retry_at = now + timedelta(seconds=result.retry_after) if result.retry_after else None
        if result.status:
            return JobOutcome(JobStatus.RETRY, DeliveryReason.HTTP_ERROR, retry_at, str(result.status))
        return JobOutcome(JobStatus.RETRY, DeliveryReason.UNREACHABLE, retry_at)
    await record(session, Event(Action.DELIVERY_FAILED, "system", "system", Outcome.FAILED,
                                reason=str(outcome), details={"host": host, "status": result.status}))
    return JobOutcome(JobStatus.FAILED, DeliveryReason(str(outcome)), detail=str(result.status or ""))


async def _drop_gone(ctx: WorkerContext, session: AsyncSession, host: str, inbox: str) -> None:
    """410 from a personal inbox: that account is gone, so it no longer follows us."""
    for subject in await subjects_with_inbox(session, ctx.federation.vault, host, inbox):
        await remove_follower(session, subject)
        await record(session, Event(Action.FOLLOWER_GONE, "system", "system", subject_ref=subject.pseudonym))


def handlers() -> dict:
    return {FANOUT_JOB: handle_fanout, DIRECT_JOB: handle_direct, ACTOR_UPDATE_JOB: handle_actor_update}


def batch_handlers() -> dict:
    return {DELIVER_JOB: deliver_batch}
