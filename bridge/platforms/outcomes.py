"""What a connector's `Result` does to the send row, the account, the job and the audit/transfer log."""

from __future__ import annotations

from datetime import timedelta

from bridge.queue import jobs
from bridge.platforms.connectors.base import Idempotency, Outcome, Reason, Result
from bridge.queue.context import JobOutcome, JobStatus
from bridge.platforms.sends import BACKFEED_JOB, Cadence, first_backfeed
from bridge.store.platforms import PlatformSend, SendState
from bridge.platforms.accounts import need_reconnect, pause
from bridge.platforms.reasons import MirrorReason
from bridge.platforms.run import Run
from bridge.platforms.states import move
from consent.audit import Action, Event, Outcome as AuditOutcome, record


UNKNOWN_RECHECK = timedelta(seconds=30)


def set_state(row: PlatformSend, state: SendState, result: Result, now, change=None) -> None:
    move(row, state, now)
    row.reason = None if result.outcome is Outcome.SENT and result.reason is Reason.OK else str(result.reason)
    row.detail = result.detail[:300] or None
    row.last_action = str(change or "publish")


async def audit(run: Run, action: Action, result: Result, change: str = "publish", transfer: bool = False) -> None:
    """One entry per outcome; with `transfer`, first the transfer-log entry (the request left)."""
    await record_outcome(run.session, run.now, run.platform, run.post.id, action, result, {"action": change}, transfer)


async def record_outcome(session, now, platform, post_id: int, action: Action, result: Result, what: dict,
                         transfer: bool) -> None:
    """The audit entries of anything sent to a platform (a post, a change, an answer): with `transfer`, first the
    transfer-log entry (the request left), then the outcome. `what` names the action and its own ids."""
    details = {"platform": platform.id, "kind": platform.kind, "post_id": post_id, **what,
               "recipient": platform.recipient, "country": platform.country,
               "mechanism": platform.transfer_mechanism}
    subject = f"post:{post_id}"
    if transfer:
        await record(session, Event(Action.PLATFORM_TRANSFER, "system", "system", subject_ref=subject,
                                    purpose="public_relations", details=details), now)
    outcome = AuditOutcome.OK if result.outcome in (Outcome.SENT, Outcome.NOT_FOUND) else AuditOutcome.FAILED
    await record(session, Event(action, "system", "system", outcome, subject_ref=subject,
                                reason=str(result.reason), details=details), now)


async def _common(run: Run, result: Result, change: str, reconciling: bool = False) -> JobOutcome | None:
    """Rate limits, unreachable platforms and refused credentials mean the same for every change.

    A send that may be on the platform (unknown, or in flight when a worker died) stays so when the
    reconciling request is refused or cannot leave: the next run must reconcile again, never publish
    blindly. Only a publish whose own request never left goes back to the queue."""
    requeue = change == "publish" and not reconciling and run.row.state != SendState.UNKNOWN
    maybe_there = change == "publish" and (reconciling or run.row.state == SendState.UNKNOWN)
    if result.outcome is Outcome.RATE_LIMITED:
        until = result.retry_at or run.now + timedelta(minutes=1)
        pause(run.account, until, run.now)
        if requeue:
            set_state(run.row, SendState.QUEUED, result, run.now)
        return JobOutcome(JobStatus.DEFER, Reason.RATE_LIMITED, until)
    if result.outcome is Outcome.UNAVAILABLE:
        if requeue and run.last_attempt:  # the job gives up: the send must not stay "queued" with nothing to run
            set_state(run.row, SendState.FAILED, result, run.now)
            await audit(run, Action.PLATFORM_FAILED, result)
            return JobOutcome(JobStatus.FAILED, result.reason)
        if requeue:
            set_state(run.row, SendState.QUEUED, result, run.now)
        if maybe_there and run.last_attempt:  # no more tries: the editor checks the platform and decides
            return await _unknown(run, result, reconciling=True)
        return JobOutcome(JobStatus.RETRY, result.reason, result.retry_at)
    if result.outcome is Outcome.AUTH_FAILED:
        if need_reconnect(run.account, result, run.now):
            await audit(run, Action.PLATFORM_RECONNECT, result, change)
        # A publish that may be there stays unknown: a repaired account must reconcile, not send again.
        state = (SendState.UNKNOWN if maybe_there else SendState.FAILED) if change == "publish" else run.row.state
        set_state(run.row, state, result, run.now, change)
        return JobOutcome(JobStatus.DONE, MirrorReason.RECONNECT_NEEDED)
    return None


async def conclude_publish(run: Run, result: Result, cadence: Cadence, *, reconciling: bool) -> JobOutcome:
    common = await _common(run, result, "publish", reconciling)
    if common is not None:
        return common
    row = run.row
    if result.outcome is Outcome.SENT:
        remote = result.remote
        row.remote_id, row.remote_url = (remote.id, remote.url) if remote else (row.remote_id, row.remote_url)
        row.remote_extra = dict(remote.extra) if remote else dict(row.remote_extra or {})
        row.sent_at = run.now
        set_state(row, SendState.SENT, result, run.now)
        await audit(run, Action.PLATFORM_SENT, result, transfer=not reconciling)
        first = first_backfeed(run.platform, cadence)  # the platform's own cadence, not a fixed 15 minutes
        if run.connector.capabilities().replies_readable and remote is not None and first is not None:
            await jobs.enqueue(run.session, BACKFEED_JOB, {"post_id": run.post.id, "platform_id": run.platform.id},
                               run_at=run.now + first, post_id=run.post.id)
        return JobOutcome(JobStatus.DONE)
    if result.outcome is Outcome.REJECTED:
        set_state(row, SendState.FAILED, result, run.now)
        await audit(run, Action.PLATFORM_FAILED, result, transfer=not reconciling)
        return JobOutcome(JobStatus.DONE, result.reason)
    return await _unknown(run, result, reconciling)


async def _unknown(run: Run, result: Result, reconciling: bool) -> JobOutcome:
    """The post may exist. Reconcile later where the platform has a handle; else the editor decides."""
    first = run.row.state != SendState.UNKNOWN
    set_state(run.row, SendState.UNKNOWN, result, run.now)
    if first:
        await audit(run, Action.PLATFORM_UNKNOWN, result, transfer=not reconciling)
    if run.connector.capabilities().idempotency is Idempotency.NONE or result.outcome is not Outcome.UNKNOWN:
        return JobOutcome(JobStatus.DONE, MirrorReason.UNKNOWN_OUTCOME_EDITOR_DECIDES)
    return JobOutcome(JobStatus.RETRY, MirrorReason.UNKNOWN_OUTCOME_RECONCILE, run.now + UNKNOWN_RECHECK)


async def conclude_change(run: Run, result: Result, change) -> JobOutcome:
    common = await _common(run, result, str(change))
    if common is not None:
        return common
    row = run.row
    if result.outcome is Outcome.UNKNOWN:  # edits and deletes are idempotent: trying again is safe
        set_state(row, SendState(row.state), result, run.now, change)
        return JobOutcome(JobStatus.RETRY, result.reason, run.now + UNKNOWN_RECHECK)
    if str(change) == "delete":
        return await _deleted(run, result)
    if result.outcome is Outcome.SENT:
        set_state(row, SendState.SENT, result, run.now, change)
        await audit(run, Action.PLATFORM_EDITED, result, "edit", transfer=True)
        return JobOutcome(JobStatus.DONE)
    set_state(row, SendState(row.state), result, run.now, change)  # unsupported or refused: the editor reads why
    if result.outcome is Outcome.REJECTED:
        await audit(run, Action.PLATFORM_FAILED, result, "edit", transfer=True)
    return JobOutcome(JobStatus.DONE, result.reason)


async def _deleted(run: Run, result: Result) -> JobOutcome:
    if result.outcome in (Outcome.SENT, Outcome.NOT_FOUND):
        set_state(run.row, SendState.DELETED, Result(Outcome.SENT), run.now, "delete")
        await audit(run, Action.PLATFORM_DELETED, result, "delete")
        return JobOutcome(JobStatus.DONE)
    set_state(run.row, SendState.MANUAL, result, run.now, "delete")
    await audit(run, Action.PLATFORM_MANUAL, result, "delete")
    return JobOutcome(JobStatus.DONE, result.reason)
