"""Delivering our activities: one fan-out job per post change becomes one delivery job per inbox.

Each delivery job rebuilds its activity from the post when it runs, signs it and POSTs it. Jobs for
the same post and inbox share an ordering key, so an Update or Delete never overtakes the Create.
"""

from __future__ import annotations

import asyncio
import enum
import json
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub import vocab
from activitypub.delivery import DeliveryOutcome, DeliveryResult, deliver
from bridge import jobs
from bridge.convert_ap import post_to_note
from bridge.db import utcnow
from bridge.domain_blocks import blocked_hosts
from bridge.hosts import host_health, record_failure, record_success, unavailable_hosts
from bridge.models import DeliveryHost, Job, JobState, Post, PostState
from bridge.jobs import JobOutcome, JobStatus, WorkerContext
from consent.audience import interacted_inboxes, subjects_with_inbox
from consent.audit import Action, Event, Outcome, record
from consent.followers import Inbox, follower_inboxes, remove_follower
from consent.subjects import known_actor

FANOUT_JOB = "fanout"
DELIVER_JOB = "deliver"
DIRECT_JOB = "deliver_direct"
DELIVERY_ATTEMPTS = 16  # Mastodon's: about n⁴+15 s apart, some 2-3 days in all
SEND_CONCURRENCY = 32  # requests in flight per worker; the client also caps connections per host


class Verb(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


async def enqueue_fanout(session: AsyncSession, post: Post, verb: Verb) -> Job:
    """Called in the transaction that changes the post (transactional outbox)."""
    return await jobs.enqueue(session, FANOUT_JOB, {"post_id": post.id, "verb": str(verb)}, post_id=post.id)


async def enqueue_direct(session: AsyncSession, actor_name: str, inbox: str, document: dict,
                         subject_id: int | None = None) -> Job:
    """One prepared activity (an Accept, a Reject) to one inbox; `subject_id` lets erasure cancel it."""
    payload = {"actor": actor_name, "inbox": inbox, "document": document, "subject_id": subject_id}
    return await jobs.enqueue(session, DIRECT_JOB, payload, max_attempts=DELIVERY_ATTEMPTS)


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
    skip = await unavailable_hosts(session) | await blocked_hosts(session, {_host(u) for u in inboxes})
    return [i for i in inboxes.values() if (urlsplit(i.url).hostname or "") not in skip]


async def handle_fanout(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    post = await session.get(Post, int(job.payload["post_id"]))
    verb = Verb(job.payload["verb"])
    if post is None:
        return JobOutcome(JobStatus.DONE, "post_gone")
    inboxes = await _audience(ctx, session, post, verb)
    now = utcnow()
    rows = [{"kind": DELIVER_JOB, "state": JobState.QUEUED, "post_id": post.id, "run_at": now, "attempts": 0,
             "max_attempts": DELIVERY_ATTEMPTS, "created_at": now, "ordering_key": f"{post.id}|{i.url}",
             "payload": {"post_id": post.id, "verb": str(verb), "inbox": i.url, "actor": post.actor.name}}
            for i in inboxes]
    if rows:
        await session.execute(insert(Job), rows)
    await record(session, Event(Action.POST_FEDERATED, "system", "system", subject_ref=f"post:{post.id}",
                                details={"verb": str(verb), "inboxes": len(rows)}))
    return JobOutcome(JobStatus.DONE)


def build_activity(ctx: WorkerContext, post: Post, verb: Verb) -> dict | None:
    uris, name = ctx.federation.uris, post.actor.name
    if verb is Verb.DELETE:
        return vocab.delete(uris, name, str(post.id))
    if post.state != PostState.PUBLISHED:
        return None  # deleted meanwhile: its Delete follows; a late Create would resurrect it
    note = post_to_note(post, ctx.config, uris)
    if verb is Verb.UPDATE:
        return vocab.update(uris, name, note, post.edited_at or post.published_at)
    return vocab.create(uris, name, str(post.id), note)


async def deliver_batch(ctx: WorkerContext, batch: list[Job]) -> list[JobOutcome]:
    """Delivers many post activities at once: each document is built and serialised once per batch,
    sends run concurrently, and all bookkeeping is one transaction."""
    now = utcnow()
    async with ctx.sessions() as session:
        post_ids = {int(job.payload["post_id"]) for job in batch}
        loaded = {p.id: p for p in (await session.scalars(select(Post).where(Post.id.in_(post_ids)))).all()}
        bodies = {key: _body(ctx, loaded.get(key[0]), Verb(key[1]))
                  for key in {(int(j.payload["post_id"]), j.payload["verb"]) for j in batch}}
        health = await host_health(session, {_host(j.payload["inbox"]) for j in batch})
        refused = await blocked_hosts(session, {_host(j.payload["inbox"]) for j in batch})
        signers = {name: await ctx.federation.signer(session, name) for name in {j.payload["actor"] for j in batch}}
    limit = asyncio.Semaphore(SEND_CONCURRENCY)

    async def one(job: Job) -> tuple[JobOutcome | None, DeliveryResult | None]:
        body = bodies[(int(job.payload["post_id"]), job.payload["verb"])]
        blocked = _blocked(health.get(_host(job.payload["inbox"])), now)
        if _host(job.payload["inbox"]) in refused:  # blocked after the job was queued
            blocked = JobOutcome(JobStatus.FAILED, "domain_blocked")
        if body is None or blocked is not None:
            return (blocked or JobOutcome(JobStatus.DONE, "nothing_to_send")), None
        signer = signers[job.payload["actor"]]
        if signer is None:
            return JobOutcome(JobStatus.FAILED, "unknown_local_actor"), None
        async with limit:
            return None, await deliver(ctx.federation.http, job.payload["inbox"], body, signer.key_id,
                                       signer.private_key)

    sent = await asyncio.gather(*(one(job) for job in batch))
    async with ctx.sessions.begin() as session:
        return [outcome if outcome is not None else
                JobOutcome(JobStatus.DONE) if _healthy_success(result, health, job) else
                await _conclude(ctx, session, _host(job.payload["inbox"]), job.payload["inbox"], result, now)
                for job, (outcome, result) in zip(batch, sent)]


def _healthy_success(result: DeliveryResult, health: dict[str, DeliveryHost], job: Job) -> bool:
    # The common case — a healthy host said yes — needs no bookkeeping at all.
    return result.outcome is DeliveryOutcome.DELIVERED and _host(job.payload["inbox"]) not in health


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _body(ctx: WorkerContext, post: Post | None, verb: Verb) -> bytes | None:
    document = build_activity(ctx, post, verb) if post is not None else None
    return None if document is None else json.dumps(document, separators=(",", ":")).encode()


def _blocked(host: DeliveryHost | None, now: datetime) -> JobOutcome | None:
    if host is None:
        return None
    if host.unavailable_since is not None:
        return JobOutcome(JobStatus.FAILED, "host_unavailable")
    if host.open_until is not None and host.open_until > now:
        return JobOutcome(JobStatus.DEFER, "circuit_open", host.open_until)
    return None


async def handle_direct(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    inbox, now = job.payload["inbox"], utcnow()
    if await blocked_hosts(session, {_host(inbox)}):
        return JobOutcome(JobStatus.FAILED, "domain_blocked")
    blocked = _blocked((await host_health(session, {_host(inbox)})).get(_host(inbox)), now)
    if blocked is not None:
        return blocked
    signer = await ctx.federation.signer(session, job.payload["actor"])
    if signer is None:
        return JobOutcome(JobStatus.FAILED, "unknown_local_actor")
    result = await deliver(ctx.federation.http, inbox, job.payload["document"], signer.key_id, signer.private_key)
    return await _conclude(ctx, session, _host(inbox), inbox, result, now)


async def _conclude(ctx: WorkerContext, session: AsyncSession, host: str, inbox: str, result: DeliveryResult,
                    now: datetime) -> JobOutcome:
    outcome = result.outcome
    if outcome is DeliveryOutcome.DELIVERED:
        await record_success(session, host, now)
        return JobOutcome(JobStatus.DONE)
    if outcome is DeliveryOutcome.GONE:
        await _drop_gone(ctx, session, host, inbox)
        return JobOutcome(JobStatus.DONE, "gone")
    await record_failure(session, host, now, counts=outcome is DeliveryOutcome.RETRY)
    if outcome is DeliveryOutcome.RETRY:
        retry_at = now + timedelta(seconds=result.retry_after) if result.retry_after else None
        return JobOutcome(JobStatus.RETRY, f"http_{result.status}" if result.status else "unreachable", retry_at)
    await record(session, Event(Action.DELIVERY_FAILED, "system", "system", Outcome.FAILED,
                                reason=str(outcome), details={"host": host, "status": result.status}))
    return JobOutcome(JobStatus.FAILED, f"{outcome}:{result.status}" if result.status else str(outcome))


async def _drop_gone(ctx: WorkerContext, session: AsyncSession, host: str, inbox: str) -> None:
    """410 from a personal inbox: that account is gone, so it no longer follows us."""
    for subject in await subjects_with_inbox(session, ctx.federation.vault, host, inbox):
        await remove_follower(session, subject)
        await record(session, Event(Action.FOLLOWER_GONE, "system", "system", subject_ref=subject.pseudonym))


def handlers() -> dict:
    return {FANOUT_JOB: handle_fanout, DIRECT_JOB: handle_direct}


def batch_handlers() -> dict:
    return {DELIVER_JOB: deliver_batch}
