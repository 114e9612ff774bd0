"""Backfeed: replies to mirrored posts, fetched on a Bridgy-like cadence (often while a post is new,
rarely later, then never) into the consent store; in the same job the platform's own public counts of
the post (likes, reposts, replies …), kept on its send row with the date they were fetched. One job per mirrored (post, platform) that re-enqueues
itself; a platform that fails only delays its own next poll.

Per platform in the config: `backfeed = false` turns it off; `backfeed_cadence = [[15, 1440], [60, 10080],
[1440, 43200]]` sets (interval minutes, until the post is this many minutes old) stages."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.normalize import web_url
from bridge.queue import jobs
from bridge.config.model import PlatformConfig
from bridge.platforms.connectors import registry
from bridge.platforms.connectors.base import Outcome, PlatformReply, Reason, ReplyBatch
from bridge.platforms.reasons import MirrorReason
from bridge.config.model import REPLY_RETENTION
from bridge.queue.context import JobOutcome, JobStatus, WorkerContext
from bridge.platforms.sends import BACKFEED_JOB, DEFAULT_CADENCE, Cadence, backfeed_delay, cadence_of, send_row
from bridge.store.models import Job, Post, PostState
from bridge.store.platforms import AccountStatus, PlatformSend, SendState
from bridge.platforms.accounts import account_row, load_state, pause, paused, save_state, session_key
from bridge.platforms.jobs import remote_of
from consent.audit import Action, Event, record
from consent.platform_replies import erase_platform_reply, platform_reply_ids, store_platform_reply
from consent.replies import ReplyReason

log = logging.getLogger("stadtbote.backfeed")
def make_backfeed_handler(clock=None, connectors=None, cadence: Cadence = DEFAULT_CADENCE):
    async def handle_backfeed(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
        async with ctx.lock(f"platform:{job.payload['platform_id']}"):  # the account session is shared
            return await _backfeed(ctx, session, job, clock, connectors, cadence)

    return handle_backfeed


async def _backfeed(ctx: WorkerContext, session: AsyncSession, job: Job, clock, connectors,
                    cadence: Cadence) -> JobOutcome:
    now = clock() if clock else datetime.now().astimezone()
    post_id, platform_id = int(job.payload["post_id"]), str(job.payload["platform_id"])
    platform = next((p for p in ctx.config.platforms if p.id == platform_id), None)
    row = await send_row(session, post_id, platform_id)
    post = await session.get(Post, post_id)
    if platform is None or row is None or post is None or row.state != SendState.SENT or not row.remote_id:
        return JobOutcome(JobStatus.DONE, MirrorReason.NOT_MIRRORED)
    stages = cadence_of(platform, cadence)
    if stages is None or post.state != PostState.PUBLISHED:
        return JobOutcome(JobStatus.DONE, MirrorReason.BACKFEED_OFF)
    account = await account_row(session, platform_id)
    if until := paused(account, now):
        return JobOutcome(JobStatus.DEFER, MirrorReason.PLATFORM_PAUSED, until)
    if account.status == AccountStatus.RECONNECT_NEEDED:
        return await _next(session, row, now, stages, MirrorReason.RECONNECT_NEEDED)
    key = session_key(ctx.federation.vault.kek)
    connector = registry.build(platform, ctx.federation.http, load_state(account, key), clock or _now, connectors)
    if connector is None:
        return JobOutcome(JobStatus.DONE, MirrorReason.REPLIES_NOT_READABLE)
    metrics = await connector.fetch_metrics(remote_of(row))
    if metrics.result.outcome is Outcome.SENT:  # a failure keeps the last figure and its date
        row.metrics = metrics.stored()
        row.metrics_at = now
    if not connector.capabilities().replies_readable:
        save_state(account, key, connector.account, now)
        if metrics.result.outcome is Outcome.UNSUPPORTED:  # nothing to read there at all: stop asking
            return JobOutcome(JobStatus.DONE, MirrorReason.REPLIES_NOT_READABLE)
        return await _next(session, row, now, stages, metrics.result.reason)
    batch = await connector.fetch_replies(remote_of(row))
    save_state(account, key, connector.account, now)
    if batch.result.outcome is Outcome.RATE_LIMITED and batch.result.retry_at:
        pause(account, batch.result.retry_at, now)
        return JobOutcome(JobStatus.DEFER, Reason.RATE_LIMITED, batch.result.retry_at)
    if batch.result.outcome is Outcome.SENT:
        await _apply(ctx, session, platform, row, post, batch, now)
    return await _next(session, row, now, stages, batch.result.reason)


def _now() -> datetime:
    return datetime.now().astimezone()


async def _next(session: AsyncSession, row: PlatformSend, now: datetime, stages: Cadence,
                reason: Reason | MirrorReason) -> JobOutcome:
    row.backfeed_at = now
    delay = backfeed_delay(now - (row.sent_at or now), stages)
    if delay is not None:
        await jobs.enqueue(session, BACKFEED_JOB, {"post_id": row.post_id, "platform_id": row.platform_id},
                           run_at=now + delay, post_id=row.post_id)
    return JobOutcome(JobStatus.DONE, reason)


async def _apply(ctx: WorkerContext, session: AsyncSession, platform: PlatformConfig, row: PlatformSend, post: Post,
                 batch: ReplyBatch, now: datetime) -> None:
    vault = ctx.federation.vault
    stored = erased = 0
    for reply in batch.replies:
        target = await _target(session, platform.id, row, post, reply)
        if target is None:
            continue
        result = await store_platform_reply(
            session, vault, platform_kind=platform.kind, platform_id=platform.id, author_id=reply.author_id,
            reply_id=reply.reply_id, text=reply.text, url=web_url(reply.url), post_id=target.id,
            actor_name=target.actor.name, retention=REPLY_RETENTION, now=now)
        if result.reason is ReplyReason.STORED:
            stored += 1
            await record(session, Event(Action.REPLY_STORED, "system", "system", subject_ref=f"post:{target.id}",
                                        details={"platform": platform.id, "kind": platform.kind}), now)
    gone = set(batch.gone)
    if batch.complete:  # everything that exists came back: what we keep and it lacks was deleted there
        present = {r.reply_id for r in batch.replies}
        gone |= {i for i in await platform_reply_ids(session, vault, post.id, platform.id) if i not in present}
    for reply_id in gone:
        if (await erase_platform_reply(session, vault, reply_id)).reason is ReplyReason.ERASED:
            erased += 1
            await record(session, Event(Action.REPLY_ERASED, "system", "system", subject_ref=f"post:{post.id}",
                                        reason="deleted_on_platform", details={"platform": platform.id}), now)
    log.info("backfeed platform=%s post=%s stored=%d erased=%d skipped=%d", platform.id, post.id, stored, erased,
             batch.skipped)


async def _target(session: AsyncSession, platform_id: str, row: PlatformSend, post: Post,
                  reply: PlatformReply) -> Post | None:
    """The post a reply belongs to: the polled one, or (one poll for all, Telegram) the one it names."""
    if reply.root_id is None or reply.root_id == row.remote_id:
        return post
    other = await session.scalar(select(PlatformSend).where(PlatformSend.platform_id == platform_id,
                                                            PlatformSend.remote_id == reply.root_id))
    return await session.get(Post, other.post_id) if other is not None else None


def handlers(clock=None, connectors=None, cadence: Cadence = DEFAULT_CADENCE) -> dict:
    return {BACKFEED_JOB: make_backfeed_handler(clock, connectors, cadence)}
