"""Answering a citizen's reply collected from a platform, on that platform, as the account: the
`platform_answer` job and what an editor starts and decides.

The same safety as posting: the row is "sending" (committed) before the request leaves, so a crash or a
timeout leaves it "unknown"; the next run reconciles through the connector (Bluesky's record key,
Mastodon's Idempotency-Key, a Threads container) and sends only when the platform says it is not there.
Platforms that cannot be asked (Telegram, Facebook, Instagram, LinkedIn, X) leave an unknown answer to the
editor, who checks and marks it sent or sends it again. An answer for an account that needs reconnecting
is kept as a draft and goes out once the account works again (`release_drafts`).

The reply's platform id is personal data: it is opened from the consent store only while sending and is
never stored here; the answer's own text is the authority's.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.config.model import Config, PlatformConfig
from bridge.platforms.accounts import account_row, load_state, need_reconnect, pause, paused, save_state, session_key
from bridge.platforms.connectors import registry
from bridge.platforms.connectors.base import AccountState, AnswerTarget, Connector, Outcome, Reason, Result
from bridge.platforms.jobs import remote_of
from bridge.platforms.outcomes import record_outcome
from bridge.platforms.reasons import MirrorReason
from bridge.platforms.sends import send_row
from bridge.platforms.states import move_answer
from bridge.queue import jobs
from bridge.queue.context import JobOutcome, JobStatus, WorkerContext
from bridge.store.db import utcnow
from bridge.store.dialogue import mark_answered
from bridge.store.models import Job
from bridge.store.platforms import AccountStatus, AnswerState, PlatformAnswer, SendState
from consent.audit import Action, Event, record
from consent.models import Reply, Subject
from consent.replies import open_reply
from consent.vault import Vault

log = logging.getLogger("stadtbote.answers")
ANSWER_JOB = "platform_answer"
ANSWER_ATTEMPTS = 10
RECHECK = timedelta(seconds=30)
S = AnswerState


class AnswerReason(enum.StrEnum):
    QUEUED = "answer_queued"
    AWAITING_APPROVAL = "answer_awaiting_approval"
    OWN_ANSWER = "own_answer"
    NOT_WAITING = "answer_not_waiting"
    DRAFT_RECONNECT = "answer_draft_reconnect"
    NOT_A_PLATFORM_REPLY = "not_a_platform_reply"
    PLATFORM_GONE = "platform_gone"
    POST_NOT_MIRRORED = "post_not_mirrored"
    NOT_ANSWERABLE = "answer_unsupported"
    EMPTY = "answer_empty"
    TOO_LONG = "answer_too_long"

    @property
    def description(self) -> str:
        return ANSWER_TEXT[self]


ANSWER_TEXT = {
    AnswerReason.QUEUED: "The answer is being sent to the platform.",
    AnswerReason.AWAITING_APPROVAL: "The account has four-eyes approval: the answer goes out once a second "
                                    "editor approves it.",
    AnswerReason.OWN_ANSWER: "You wrote this answer: a second editor must approve it.",
    AnswerReason.NOT_WAITING: "This answer does not wait for approval.",
    AnswerReason.DRAFT_RECONNECT: "The platform account must be reconnected: the answer is kept as a draft and "
                                  "sent once it works again.",
    AnswerReason.NOT_A_PLATFORM_REPLY: "This reply did not come from a platform.",
    AnswerReason.PLATFORM_GONE: "The platform account of this reply is no longer configured.",
    AnswerReason.POST_NOT_MIRRORED: "The post this reply belongs to is not on the platform (any more).",
    AnswerReason.NOT_ANSWERABLE: "Replies on this platform cannot be answered from Stadtbote.",
    AnswerReason.EMPTY: "Write an answer first.",
    AnswerReason.TOO_LONG: "The answer has %(length)s characters; the platform allows at most %(limit)s.",
}


@dataclass(frozen=True)
class Started:
    reason: AnswerReason
    answer: PlatformAnswer | None = None
    length: int = 0
    limit: int = 0

    @property
    def ok(self) -> bool:
        return self.answer is not None


def platform_of(config: Config, reply: Reply) -> PlatformConfig | None:
    """The platform account a reply came from (backfeed labels it), None for fediverse replies."""
    platform_id = (reply.signals or {}).get("platform")
    return next((p for p in config.platforms if p.id == platform_id), None) if platform_id else None


def answer_handle(reply_id: int, platform_id: str, attempt: str = "") -> str:
    """Stable per answer (`<reply>-<hash>`): the idempotency key / record key seed of every try."""
    digest = hashlib.sha256(f"stadtbote:answer:{reply_id}:{platform_id}:{attempt}".encode()).hexdigest()[:32]
    return f"{reply_id}-{digest}"


async def answerable(session: AsyncSession, config: Config, reply: Reply) -> AnswerReason | None:
    """Why this reply cannot be answered on its platform, or None when it can."""
    if not (reply.signals or {}).get("platform"):
        return AnswerReason.NOT_A_PLATFORM_REPLY
    platform = platform_of(config, reply)
    if platform is None:
        return AnswerReason.PLATFORM_GONE
    sent = await send_row(session, reply.post_id or 0, platform.id)
    if sent is None or sent.state != SendState.SENT or not sent.remote_id:
        return AnswerReason.POST_NOT_MIRRORED
    connector = registry.build(platform, None, AccountState(), utcnow)
    if connector is None or type(connector).answer is Connector.answer:
        return AnswerReason.NOT_ANSWERABLE
    return None


async def start_answer(session: AsyncSession, config: Config, reply: Reply, text: str, language: str,
                       user_ref: str, now: datetime) -> Started:
    """Checks the answer against the platform's limit and queues it (or keeps it as a draft while the
    account needs reconnecting, or for a second editor where the account has four-eyes approval). The
    caller commits."""
    text = text.strip()
    refused = await answerable(session, config, reply)
    if refused is not None:
        return Started(refused)
    if not text:
        return Started(AnswerReason.EMPTY)
    platform = platform_of(config, reply)
    rendered = registry.build(platform, None, AccountState(), utcnow).render_answer(text, language)
    if not rendered.fits:
        return Started(AnswerReason.TOO_LONG, length=rendered.length, limit=rendered.limit)
    earlier = await session.scalar(select(PlatformAnswer).where(PlatformAnswer.reply_id == reply.id)
                                   .order_by(PlatformAnswer.id.desc()))
    actor = config.actor(reply.actor_name)
    four_eyes = actor is not None and actor.require_approval
    row = PlatformAnswer(reply_id=reply.id, post_id=reply.post_id, platform_id=platform.id, actor_name=reply.actor_name,
                         text=text, language=language, state=S.AWAITING_APPROVAL if four_eyes else S.QUEUED,
                         handle=answer_handle(reply.id, platform.id, str(earlier.id if earlier else "")),
                         attempts=0, created_by=user_ref, created_at=now, updated_at=now)
    session.add(row)
    if four_eyes:
        await session.flush()
        return Started(AnswerReason.AWAITING_APPROVAL, row)
    return await _release(session, row, now)


async def _release(session: AsyncSession, row: PlatformAnswer, now: datetime) -> Started:
    """Queues the answer, or keeps it as a draft while its account needs reconnecting."""
    account = await account_row(session, row.platform_id)
    if account.status == AccountStatus.RECONNECT_NEEDED:
        move_answer(row, S.DRAFT, now)
        row.reason = str(MirrorReason.RECONNECT_NEEDED)
        await session.flush()
        return Started(AnswerReason.DRAFT_RECONNECT, row)
    move_answer(row, S.QUEUED, now)
    await session.flush()
    await _enqueue(session, row)
    return Started(AnswerReason.QUEUED, row)


async def approve_answer(session: AsyncSession, row: PlatformAnswer, approver_role: str, approver_ref: str,
                         now: datetime) -> Started:
    """The second pair of eyes: another editor of the account lets the answer go out (audited)."""
    if row.state != S.AWAITING_APPROVAL:
        return Started(AnswerReason.NOT_WAITING)
    if row.created_by == approver_ref:
        return Started(AnswerReason.OWN_ANSWER)
    started = await _release(session, row, now)
    await record(session, Event(Action.PLATFORM_DECIDED, approver_role, approver_ref, subject_ref=f"post:{row.post_id}",
                                details={"platform": row.platform_id, "answer": row.id, "decision": "approve"}))
    return started


async def _enqueue(session: AsyncSession, row: PlatformAnswer) -> None:
    await jobs.enqueue(session, ANSWER_JOB, {"answer_id": row.id, "platform_id": row.platform_id},
                       post_id=row.post_id, max_attempts=ANSWER_ATTEMPTS, ordering_key=f"answer:{row.id}")


async def release_drafts(session: AsyncSession, platform_id: str) -> int:
    """The account works again: its draft answers go out. Called when an account is reconnected or its
    credentials check out again."""
    drafts = (await session.scalars(select(PlatformAnswer).where(PlatformAnswer.platform_id == platform_id,
                                                                 PlatformAnswer.state == S.DRAFT))).all()
    for row in drafts:
        move_answer(row, S.QUEUED, utcnow())
        row.reason = None
        await _enqueue(session, row)
    refused = (await session.scalars(select(PlatformAnswer).where(
        PlatformAnswer.platform_id == platform_id, PlatformAnswer.state == S.UNKNOWN,
        PlatformAnswer.reason == str(Reason.INVALID_CREDENTIALS)))).all()
    for row in refused:  # may be there: the job reconciles before it would send
        await _enqueue(session, row)
    return len(drafts) + len(refused)


class AnswerDecision(enum.StrEnum):
    RETRY = "retry"  # the editor checked: the answer is not there; send it again
    MARK_SENT = "mark_sent"  # the editor checked: it is there


async def decide_answer(session: AsyncSession, row: PlatformAnswer, decision: AnswerDecision, actor_role: str,
                        actor_ref: str) -> bool:
    allowed = (S.UNKNOWN, S.FAILED) if decision is AnswerDecision.RETRY else (S.UNKNOWN,)
    if row.state not in allowed:
        return False
    now = utcnow()
    if decision is AnswerDecision.MARK_SENT:
        move_answer(row, S.SENT, now)
        row.sent_at = now
        await _answered(session, row, now)
    else:
        move_answer(row, S.QUEUED, now)
        row.first_sent_at = None
        row.handle = answer_handle(row.reply_id, row.platform_id, f"retry:{row.handle}")
        await _enqueue(session, row)
    row.reason, row.detail, row.updated_at = f"editor_{decision}", None, now
    await record(session, Event(Action.PLATFORM_DECIDED, actor_role, actor_ref, subject_ref=f"post:{row.post_id}",
                                details={"platform": row.platform_id, "answer": row.id, "decision": str(decision)}))
    return True


async def answers_of(session: AsyncSession, reply_ids: list[int]) -> dict[int, PlatformAnswer]:
    """The latest answer per reply."""
    if not reply_ids:
        return {}
    rows = (await session.scalars(select(PlatformAnswer).where(PlatformAnswer.reply_id.in_(reply_ids))
                                  .order_by(PlatformAnswer.id))).all()
    return {row.reply_id: row for row in rows}


# --- the job ---------------------------------------------------------------------------------------------

def make_answer_handler(clock=None, connectors=None):
    async def handle_answer(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
        async with ctx.lock(f"platform:{job.payload['platform_id']}"):  # the account session is shared
            return await _handle(ctx, session, job, clock, connectors)

    return handle_answer


@dataclass
class _Run:
    ctx: WorkerContext
    session: AsyncSession
    platform: PlatformConfig
    row: PlatformAnswer
    now: datetime
    last_attempt: bool


async def _handle(ctx: WorkerContext, session: AsyncSession, job: Job, clock, connectors) -> JobOutcome:
    now = clock() if clock else datetime.now().astimezone()
    row = await session.get(PlatformAnswer, int(job.payload["answer_id"]))
    if row is None or row.state in (S.SENT, S.FAILED, S.DRAFT, S.AWAITING_APPROVAL):
        return JobOutcome(JobStatus.DONE, MirrorReason.ALREADY_SETTLED, detail=str(row.state) if row else "")
    if ctx.federation is None:
        return JobOutcome(JobStatus.RETRY, MirrorReason.NO_HTTP_CLIENT)
    platform = next((p for p in ctx.config.platforms if p.id == row.platform_id), None)
    run = _Run(ctx, session, platform, row, now, job.attempts >= job.max_attempts)
    if platform is None:
        return await _failed(run, Result(Outcome.REJECTED, Reason.REJECTED, "unknown platform id"))
    account = await account_row(session, platform.id)
    if until := paused(account, now):
        return JobOutcome(JobStatus.DEFER, MirrorReason.PLATFORM_PAUSED, until)
    if account.status == AccountStatus.RECONNECT_NEEDED and row.state == S.QUEUED:
        _set(row, S.DRAFT, Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, account.detail or ""), now)
        return JobOutcome(JobStatus.DONE, MirrorReason.RECONNECT_NEEDED)
    target = await _target(session, ctx.federation.vault, row)
    if target is None:
        return await _failed(run, Result(Outcome.REJECTED, Reason.REPLY_GONE, ""))
    key = session_key(ctx.federation.vault.kek)
    connector = registry.build(platform, ctx.federation.http, load_state(account, key), clock or _now, connectors)
    if connector is None:
        return await _failed(run, Result(Outcome.UNSUPPORTED, Reason.ANSWER_UNSUPPORTED, ""))
    rendered = connector.render_answer(row.text, row.language)
    if row.state in (S.SENDING, S.UNKNOWN):
        found = await connector.reconcile_answer(target, rendered, row.handle, row.first_sent_at)
        save_state(account, key, connector.account, now)
        if found.outcome is not Outcome.NOT_FOUND:
            return await _conclude(run, account, found, reconciling=True)
    _set(row, S.SENDING, Result(Outcome.SENT), now)
    row.attempts += 1
    row.first_sent_at = row.first_sent_at or now
    await session.commit()  # from here on, a crash means "unknown", never "not sent"
    result = await connector.answer(target, rendered, row.handle)
    save_state(account, key, connector.account, now)
    outcome = await _conclude(run, account, result, reconciling=False)
    log.info("platform %s answer %s: %s", platform.id, row.id, outcome.code)
    return outcome


def _now() -> datetime:
    return datetime.now().astimezone()


async def _target(session: AsyncSession, vault: Vault, row: PlatformAnswer) -> AnswerTarget | None:
    """Opened from the consent store for this request only; None once the reply or its author is erased."""
    reply = await session.get(Reply, row.reply_id)
    subject = await session.get(Subject, reply.subject_id) if reply is not None else None
    opened = open_reply(vault, subject, reply) if subject is not None else None
    sent = await send_row(session, row.post_id, row.platform_id)
    if opened is None or sent is None or not sent.remote_id:
        return None
    return AnswerTarget(opened.object_id, remote_of(sent))


def _set(row: PlatformAnswer, state: AnswerState, result: Result, now: datetime) -> None:
    move_answer(row, state, now)
    row.reason = None if result.outcome is Outcome.SENT and result.reason is Reason.OK else str(result.reason)
    row.detail = result.detail[:300] or None


async def _audit(run: _Run, action: Action, result: Result, transfer: bool) -> None:
    """The same entries as for posts: the transfer log when a request left, then the outcome."""
    await record_outcome(run.session, run.now, run.platform, run.row.post_id, action, result,
                         {"action": "answer", "answer": run.row.id}, transfer)


async def _failed(run: _Run, result: Result, transfer: bool = False) -> JobOutcome:
    _set(run.row, S.FAILED, result, run.now)
    if run.platform is not None:
        await _audit(run, Action.PLATFORM_FAILED, result, transfer)
    return JobOutcome(JobStatus.DONE, result.reason)


async def _answered(session: AsyncSession, row: PlatformAnswer, now: datetime) -> None:
    reply = await session.get(Reply, row.reply_id)
    if reply is not None:
        await mark_answered(session, reply.id, reply.actor_name, reply.received_at, now)


async def _conclude(run: _Run, account, result: Result, *, reconciling: bool) -> JobOutcome:
    row, now = run.row, run.now
    maybe_there = reconciling or row.state == S.UNKNOWN
    if result.outcome is Outcome.SENT:
        remote = result.remote
        row.remote_id, row.remote_url = (remote.id or None, remote.url) if remote else (row.remote_id, row.remote_url)
        row.sent_at = now
        _set(row, S.SENT, result, now)
        await _audit(run, Action.PLATFORM_SENT, result, transfer=not reconciling)
        await _answered(run.session, row, now)
        return JobOutcome(JobStatus.DONE)
    if result.outcome is Outcome.RATE_LIMITED:
        until = result.retry_at or now + timedelta(minutes=1)
        pause(account, until, now)
        if not maybe_there:
            _set(row, S.QUEUED, result, now)
        return JobOutcome(JobStatus.DEFER, Reason.RATE_LIMITED, until)
    if result.outcome is Outcome.UNAVAILABLE:
        if not maybe_there and run.last_attempt:
            return await _failed(run, result)
        if not maybe_there:
            _set(row, S.QUEUED, result, now)
            return JobOutcome(JobStatus.RETRY, result.reason, result.retry_at)
        if run.last_attempt:
            return await _unknown(run, result, reconciling, editor=True)
        return JobOutcome(JobStatus.RETRY, result.reason, result.retry_at)
    if result.outcome is Outcome.AUTH_FAILED:
        if need_reconnect(account, result, now):
            await _audit(run, Action.PLATFORM_RECONNECT, result, transfer=False)
        # Refused before anything was written: a draft that goes out after reconnecting. One that may be
        # there stays unknown, to be reconciled, never sent blindly.
        _set(row, S.UNKNOWN if maybe_there else S.DRAFT, result, now)
        return JobOutcome(JobStatus.DONE, MirrorReason.RECONNECT_NEEDED)
    if result.outcome in (Outcome.REJECTED, Outcome.UNSUPPORTED):
        return await _failed(run, result, transfer=not reconciling)
    return await _unknown(run, result, reconciling, editor=result.reason is Reason.UNDECIDABLE)


async def _unknown(run: _Run, result: Result, reconciling: bool, editor: bool) -> JobOutcome:
    """It may be there. Look again shortly where the platform can tell; otherwise an editor decides."""
    first = run.row.state != S.UNKNOWN
    _set(run.row, S.UNKNOWN, result, run.now)
    if first:
        await _audit(run, Action.PLATFORM_UNKNOWN, result, transfer=not reconciling)
    if editor or run.last_attempt:
        return JobOutcome(JobStatus.DONE, MirrorReason.UNKNOWN_OUTCOME_EDITOR_DECIDES)
    return JobOutcome(JobStatus.RETRY, MirrorReason.UNKNOWN_OUTCOME_RECONCILE, run.now + RECHECK)


def handlers(clock=None, connectors=None) -> dict:
    return {ANSWER_JOB: make_answer_handler(clock, connectors)}
