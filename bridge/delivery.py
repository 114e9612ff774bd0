"""Delivering our activities: one fan-out job per post change becomes one delivery job per inbox.

Each delivery job rebuilds its activity from the post when it runs, signs it and POSTs it. Jobs for
the same post and inbox share an ordering key, so an Update or Delete never overtakes the Create.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub import vocab
from activitypub.delivery import DeliveryOutcome, deliver
from bridge import jobs
from bridge.convert_ap import post_to_note
from bridge.db import utcnow
from bridge.hosts import host_is_open, host_is_unavailable, record_failure, record_success, unavailable_hosts
from bridge.models import Job, JobState, Post, PostState
from bridge.jobs import JobOutcome, JobStatus, WorkerContext
from consent.audience import interacted_inboxes, subjects_with_inbox
from consent.audit import Action, Event, Outcome, record
from consent.followers import Inbox, follower_inboxes, remove_follower

FANOUT_JOB = "fanout"
DELIVER_JOB = "deliver"
DIRECT_JOB = "deliver_direct"
DELIVERY_ATTEMPTS = 16  # Mastodon's: about n⁴+15 s apart, some 2-3 days in all


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
    skip = await unavailable_hosts(session)
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


async def handle_deliver(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    post = await session.get(Post, int(job.payload["post_id"]))
    document = build_activity(ctx, post, Verb(job.payload["verb"])) if post is not None else None
    if document is None:
        return JobOutcome(JobStatus.DONE, "nothing_to_send")
    return await _send(ctx, session, job.payload["actor"], job.payload["inbox"], document)


async def handle_direct(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    return await _send(ctx, session, job.payload["actor"], job.payload["inbox"], job.payload["document"])


async def _send(ctx: WorkerContext, session: AsyncSession, actor_name: str, inbox: str,
                document: dict) -> JobOutcome:
    host = urlsplit(inbox).hostname or ""
    now = utcnow()
    if await host_is_unavailable(session, host):
        return JobOutcome(JobStatus.FAILED, "host_unavailable")
    if not await host_is_open(session, host, now):
        return JobOutcome(JobStatus.DEFER, "circuit_open", now + timedelta(minutes=5))
    signer = await ctx.federation.signer(session, actor_name)
    if signer is None:
        return JobOutcome(JobStatus.FAILED, "unknown_local_actor")
    result = await deliver(ctx.federation.http, inbox, document, signer.key_id, signer.private_key)
    return await _conclude(ctx, session, host, inbox, result, now)


async def _conclude(ctx: WorkerContext, session: AsyncSession, host: str, inbox: str, result,
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
    return {FANOUT_JOB: handle_fanout, DELIVER_JOB: handle_deliver, DIRECT_JOB: handle_direct}
