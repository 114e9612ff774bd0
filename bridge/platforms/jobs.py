"""The worker side of mirroring: the `platform_send` job (publish, edit, delete) per (post, platform).

Every outcome lands on the send row as a reason code plus the platform's short error text, which is what
the editor reads; the log gets ids and reason codes only. Nothing here can stall another platform or
federation: a paused platform defers its own jobs, a disconnected account fails its own sends.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.platforms.connectors import registry
from bridge.platforms.connectors.base import Outcome, Reason, Remote, Rendered, Result
from bridge.platforms.connectors.render import post_view, stored_files
from bridge.queue.context import JobOutcome, JobStatus, WorkerContext
from bridge.platforms.sends import DEFAULT_CADENCE, SEND_JOB, Cadence, Change, send_row
from bridge.runtime.media_storage import media_storage
from bridge.store.models import Job, Post, PostState
from bridge.store.platforms import AccountStatus, PlatformSend, SendState
from bridge.platforms.accounts import account_row, load_state, paused, session_key
from bridge.platforms.reasons import MirrorReason
from bridge.platforms.run import Run
from bridge.platforms.outcomes import audit, conclude_change, conclude_publish, set_state
from consent.audit import Action

log = logging.getLogger("stadtbote.mirroring")


def make_send_handler(clock=None, connectors=None, cadence: Cadence = DEFAULT_CADENCE):
    """The job handler; tests inject a clock and connector classes."""

    async def handle_send(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
        async with ctx.lock(f"platform:{job.payload['platform_id']}"):  # one job per account at a time
            return await _handle(ctx, session, job, clock, connectors, cadence)

    return handle_send


async def _handle(ctx: WorkerContext, session: AsyncSession, job: Job, clock, connectors,
                  cadence: Cadence) -> JobOutcome:
    now = clock() if clock else datetime.now().astimezone()
    run = await _prepare(ctx, session, job, now, clock, connectors)
    if isinstance(run, JobOutcome):
        return run
    change = Change(job.payload.get("change", Change.PUBLISH))
    if until := paused(run.account, now):
        return JobOutcome(JobStatus.DEFER, MirrorReason.PLATFORM_PAUSED, until)
    if run.account.status == AccountStatus.RECONNECT_NEEDED and change is not Change.DELETE:
        result = Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, run.account.detail or "")
        set_state(run.row, _failed_if_open(run.row, change), result, now, change)
        return JobOutcome(JobStatus.DONE, MirrorReason.RECONNECT_NEEDED)
    if change is Change.PUBLISH:
        outcome = await _publish(run, cadence)
    elif change is Change.CLOSE_POLL:
        outcome = await _close_poll(run)
    else:
        outcome = await _change(run, change)
    log.info("platform %s post %s %s: %s", run.platform.id, run.post.id, change, outcome.code)
    return outcome


async def _prepare(ctx, session, job, now, clock, connectors) -> Run | JobOutcome:
    post_id, platform_id = int(job.payload["post_id"]), str(job.payload["platform_id"])
    platform = next((p for p in ctx.config.platforms if p.id == platform_id), None)
    row = await send_row(session, post_id, platform_id)
    post = await session.get(Post, post_id)
    if row is None or post is None:
        return JobOutcome(JobStatus.DONE, MirrorReason.NOTHING_TO_SEND)
    if ctx.federation is None:  # only a test worker without federation gets here
        return JobOutcome(JobStatus.RETRY, MirrorReason.NO_HTTP_CLIENT)
    change = Change(job.payload.get("change", Change.PUBLISH))
    if platform is None:
        result = Result(Outcome.REJECTED, Reason.REJECTED, "unknown platform id")
        set_state(row, _failed_if_open(row, change), result, now, change)
        return JobOutcome(JobStatus.DONE, MirrorReason.UNKNOWN_PLATFORM)
    account = await account_row(session, platform_id)
    key = session_key(ctx.federation.vault.kek)
    connector = registry.build(platform, ctx.federation.http, load_state(account, key), clock or _now, connectors)
    if connector is None:
        result = Result(Outcome.UNSUPPORTED, Reason.REJECTED, f"no connector for {platform.kind}")
        set_state(row, _failed_if_open(row, change), result, now, change)
        return JobOutcome(JobStatus.DONE, MirrorReason.NO_CONNECTOR)
    # Connectors read images (and, where they upload it, video) as files: a bucket's objects are copied here first.
    await media_storage(ctx.config).ensure_local(stored_files(post, connector.capabilities().video))
    return Run(ctx, session, platform, account, connector, row, post, now, key,
               last_attempt=job.attempts >= job.max_attempts)


def _failed_if_open(row: PlatformSend, change: Change) -> SendState:
    """A publish that cannot start fails; a send that went out (or ended) keeps its state, whatever the change."""
    open_states = (SendState.QUEUED, SendState.SENDING, SendState.UNKNOWN, SendState.FAILED)
    return SendState.FAILED if change is Change.PUBLISH and row.state in open_states else SendState(row.state)


def _now() -> datetime:
    return datetime.now().astimezone()


def _render(run: Run) -> Rendered:
    return run.connector.render(post_view(run.post, run.ctx.config, run.ctx.federation.uris))


async def _publish(run: Run, cadence: Cadence) -> JobOutcome:
    row = run.row
    if row.state in (SendState.SENT, SendState.CANCELLED, SendState.DELETED, SendState.MANUAL, SendState.FAILED,
                     SendState.BY_HAND):
        return JobOutcome(JobStatus.DONE, MirrorReason.ALREADY_SETTLED, detail=str(row.state))  # a stale job: the row was settled meanwhile
    if run.post.state != PostState.PUBLISHED:
        set_state(row, SendState.CANCELLED, Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, "post not public"), run.now)
        return JobOutcome(JobStatus.DONE, MirrorReason.POST_NOT_PUBLIC)
    rendered = _render(run)
    if rendered.blocked or not rendered.fits:
        result = Result(Outcome.REJECTED, rendered.blocked or Reason.REJECTED,
                        "" if rendered.blocked else "the text is too long for the platform")
        set_state(row, SendState.FAILED, result, run.now)
        await audit(run, Action.PLATFORM_FAILED, result)
        return JobOutcome(JobStatus.DONE, result.reason)
    if run.connector.capabilities().manual_route:  # no API: the text waits for an editor to post it by hand
        set_state(row, SendState.BY_HAND, Result(Outcome.MANUAL, Reason.MANUAL_ROUTE), run.now)
        return JobOutcome(JobStatus.DONE, MirrorReason.BY_HAND)
    if row.state in (SendState.SENDING, SendState.UNKNOWN):
        found = await run.connector.reconcile(row.handle, rendered, row.first_sent_at)
        run.save_account()
        if found.outcome is not Outcome.NOT_FOUND:
            return await conclude_publish(run, found, cadence, reconciling=True)
    set_state(row, SendState.SENDING, Result(Outcome.SENT), run.now)
    row.attempts += 1
    row.first_sent_at = row.first_sent_at or run.now
    await run.session.commit()  # from here on, a crash means "unknown", never "not sent"
    result = await run.connector.publish(rendered, row.handle)
    run.save_account()
    return await conclude_publish(run, result, cadence, reconciling=False)


async def _change(run: Run, change: Change) -> JobOutcome:
    row = run.row
    if change is Change.EDIT and row.state != SendState.SENT:
        return JobOutcome(JobStatus.DONE, MirrorReason.NOT_SENT)
    if change is Change.DELETE and row.state not in (SendState.SENT, SendState.UNKNOWN, SendState.SENDING):
        if row.state == SendState.QUEUED:
            set_state(row, SendState.CANCELLED, Result(Outcome.NOT_FOUND, Reason.NOT_FOUND), run.now, change)
        return JobOutcome(JobStatus.DONE, MirrorReason.NOTHING_TO_DELETE)
    if change is Change.DELETE and row.state != SendState.SENT:
        return await _delete_unknown(run)
    remote = remote_of(row)
    if change is Change.EDIT:
        result = await run.connector.edit(remote, _render(run))
    else:
        result = await run.connector.delete(remote)
    run.save_account()
    return await conclude_change(run, result, change)


async def _delete_unknown(run: Run) -> JobOutcome:
    """Deleting a post whose send outcome is unknown: find it first; undecidable means the editor checks."""
    found = await run.connector.reconcile(run.row.handle, _render(run), run.row.first_sent_at)
    run.save_account()
    if found.outcome is Outcome.NOT_FOUND:
        set_state(run.row, SendState.CANCELLED, found, run.now, Change.DELETE)
        return JobOutcome(JobStatus.DONE, MirrorReason.NEVER_SENT)
    if found.outcome is Outcome.SENT and found.remote is not None:
        result = await run.connector.delete(found.remote)
        run.save_account()
        return await conclude_change(run, result, Change.DELETE)
    if found.outcome in (Outcome.UNAVAILABLE, Outcome.RATE_LIMITED):
        return JobOutcome(JobStatus.RETRY, found.reason, found.retry_at)
    manual = Result(Outcome.MANUAL, Reason.UNDECIDABLE, found.detail)
    return await conclude_change(run, manual, Change.DELETE)


async def _close_poll(run: Run) -> JobOutcome:
    """Ends the copy's own poll; its final counts are kept like the figures backfeed fetches. The send's
    state stays as it is: closing a poll is not an edit of the post."""
    row = run.row
    if row.state != SendState.SENT or not (row.remote_extra or {}).get("poll_message_id"):
        return JobOutcome(JobStatus.DONE, Reason.POLL_UNSUPPORTED)
    metrics = await run.connector.close_poll(remote_of(row))
    run.save_account()
    result = metrics.result
    if result.outcome in (Outcome.UNAVAILABLE, Outcome.RATE_LIMITED, Outcome.UNKNOWN):
        return JobOutcome(JobStatus.RETRY, result.reason, result.retry_at)  # stopping a stopped poll is harmless
    if result.outcome is Outcome.SENT and metrics.poll is not None:
        row.metrics = {**(row.metrics or {}), **metrics.stored()}
        row.metrics_at = run.now
    return JobOutcome(JobStatus.DONE, None if result.outcome is Outcome.SENT else result.reason)


def remote_of(row: PlatformSend) -> Remote:
    return Remote(row.remote_id or "", row.remote_url, dict(row.remote_extra or {}))


def handlers(clock=None, connectors=None) -> dict:
    """The job kinds of mirroring (backfeed is registered by `bridge.backfeed`)."""
    return {SEND_JOB: make_send_handler(clock, connectors)}
