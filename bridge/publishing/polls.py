"""Polls of our posts: attached on creation, opened on publication, votes counted under a keyed pseudonym
while open, the tally federated in batches (`Update(Question)`), closed at their end or early by an editor.

At closing the votes are deleted: only the counts per option and the number of voters stay.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bridge.auth.users import may_use_actor, user_ref
from bridge.delivery import jobs as delivery
from bridge.platforms.sends import enqueue_poll_close
from bridge.publishing.pollrules import PollDraft
from bridge.queue import jobs
from bridge.queue.context import JobOutcome, JobStatus, WorkerContext
from bridge.store.db import utcnow
from bridge.store.models import Job, JobState, Post, PostState, User
from bridge.store.polls import Poll, PollVote, poll_of
from consent.audit import Action, Event, record
from consent.pseudonyms import Pseudonymizer

CLOSE_JOB = "poll_close"
TALLY_JOB = "poll_tally"
# Mastodon waits three minutes before it federates a tally; a city's poll on a notice board may move
# faster, and one Update per few seconds is still one request per follower server, not one per vote.
TALLY_DELAY = timedelta(seconds=5)
VOTES_KEPT_AFTER_END = timedelta(days=1)  # the retention run's margin behind the closing job
MAX_VOTER_INBOXES = 2000  # servers, not people; beyond this the followers' servers still get the tally


class VoteReason(enum.StrEnum):
    COUNTED = "vote_counted"
    NOT_A_POLL = "vote_not_a_poll"
    UNKNOWN_OPTION = "vote_unknown_option"
    POLL_CLOSED = "vote_poll_closed"
    ALREADY_VOTED = "vote_already_voted"

    @property
    def description(self) -> str:
        return VOTE_TEXT[self]


VOTE_TEXT = {
    VoteReason.COUNTED: "the vote was counted",
    VoteReason.NOT_A_POLL: "the post has no poll (or is not published)",
    VoteReason.UNKNOWN_OPTION: "the poll has no such option",
    VoteReason.POLL_CLOSED: "the poll is closed",
    VoteReason.ALREADY_VOTED: "this voter already chose this (or, single choice, any) option",
}


class PollReason(enum.StrEnum):
    CLOSED = "poll_closed"
    ALREADY_CLOSED = "poll_already_closed"
    NOT_YET = "poll_not_yet_due"
    NO_POLL = "poll_missing"
    NOT_ALLOWED = "poll_not_allowed"
    TALLY_SENT = "poll_tally_sent"

    @property
    def description(self) -> str:
        return POLL_TEXT[self]


POLL_TEXT = {
    PollReason.CLOSED: "the poll is closed; the final tally is sent",
    PollReason.ALREADY_CLOSED: "the poll was closed before",
    PollReason.NOT_YET: "the poll's end has not come yet",
    PollReason.NO_POLL: "the post has no poll (or was deleted)",
    PollReason.NOT_ALLOWED: "you may not close polls of this account",
    PollReason.TALLY_SENT: "the tally is on its way to the followers' servers",
}


def attach_poll(session: AsyncSession, post: Post, draft: PollDraft | None) -> Poll | None:
    """The new (flushed) post's poll, if the draft has one. Set as loaded either way: a new post's poll is
    known, and an async session cannot load it lazily later."""
    poll = None
    if draft is not None:
        options = [o.strip() for o in draft.options if o.strip()]
        poll = Poll(post_id=post.id, options=options, counts=[0] * len(options), multiple=draft.multiple,
                    hide_totals=draft.hide_totals, expires_in=draft.expires_in, voters_count=0, voter_inboxes=[])
        session.add(poll)
    set_committed_value(post, "poll", poll)
    return poll


async def open_poll(session: AsyncSession, post: Post, now: datetime) -> None:
    """On publication: the poll runs from now, and its closing is queued for its end."""
    poll = await poll_of(session, post)
    if poll is None or poll.expires_at is not None:
        return
    poll.expires_at = now + timedelta(seconds=poll.expires_in)
    await jobs.enqueue(session, CLOSE_JOB, {"post_id": post.id}, run_at=poll.expires_at, post_id=post.id)


async def _locked_poll(session: AsyncSession, post_id: int) -> Poll | None:
    # One vote at a time per poll (PostgreSQL row lock; SQLite writes one at a time anyway).
    return await session.get(Poll, post_id, with_for_update=True, populate_existing=True)


async def record_vote(session: AsyncSession, pseudonyms: Pseudonymizer, post_id: int, voter: str, choice: str,
                      shared_inbox: str | None, now: datetime) -> VoteReason:
    """Counts `voter`'s choice once (once per option for multiple choice). The voter is kept only as a
    pseudonym within this poll, until it closes."""
    post = await session.get(Post, post_id)
    poll = await _locked_poll(session, post_id) if post is not None else None
    if poll is None or post.state != PostState.PUBLISHED:
        return VoteReason.NOT_A_POLL
    if poll.closed(now):
        return VoteReason.POLL_CLOSED
    if choice not in poll.options:
        return VoteReason.UNKNOWN_OPTION
    index = poll.options.index(choice)
    pseudonym = pseudonyms.pseudonym(f"vote.{post_id}", voter)
    earlier = set((await session.scalars(select(PollVote.choice).where(
        PollVote.post_id == post_id, PollVote.voter == pseudonym))).all())
    if index in earlier or (earlier and not poll.multiple):
        return VoteReason.ALREADY_VOTED
    session.add(PollVote(post_id=post_id, voter=pseudonym, choice=index, created_at=now))
    counts = list(poll.counts)
    counts[index] += 1
    poll.counts = counts  # a new list: JSON columns notice assignment, not mutation
    if not earlier:
        poll.voters_count += 1
    if shared_inbox and shared_inbox not in poll.voter_inboxes and len(poll.voter_inboxes) < MAX_VOTER_INBOXES:
        poll.voter_inboxes = [*poll.voter_inboxes, shared_inbox]
    if not poll.hide_totals:  # hidden totals travel only at closing, as in Mastodon
        await schedule_tally(session, post_id, now)
    return VoteReason.COUNTED


async def schedule_tally(session: AsyncSession, post_id: int, now: datetime) -> None:
    """One pending tally job per poll: the votes of the next few seconds travel in one Update."""
    pending = await session.scalar(select(Job.id).where(Job.kind == TALLY_JOB, Job.post_id == post_id,
                                                        Job.state == JobState.QUEUED).limit(1))
    if pending is None:
        await jobs.enqueue(session, TALLY_JOB, {"post_id": post_id}, run_at=now + TALLY_DELAY, post_id=post_id)


async def close_poll(session: AsyncSession, post: Post, now: datetime, by: User | None = None) -> PollReason:
    """Closes the poll (at its end, or early by an editor): votes deleted, final tally federated."""
    poll = await _locked_poll(session, post.id)
    if poll is None:
        return PollReason.NO_POLL
    if by is not None and not may_use_actor(by, post.actor.name):
        return PollReason.NOT_ALLOWED
    if poll.closed_at is not None:
        return PollReason.ALREADY_CLOSED
    if by is None and poll.expires_at is not None and poll.expires_at > now:
        return PollReason.NOT_YET
    poll.closed_at = now
    if poll.expires_at is None or poll.expires_at > now:
        poll.expires_at = now  # Mastodon's `closed`/`endTime` is the moment it ended
    await discard_votes(session, post.id)
    if post.state == PostState.PUBLISHED:
        await delivery.enqueue_fanout(session, post, delivery.Verb.TALLY)
        await enqueue_poll_close(session, post)
    actor = (by.role, user_ref(by)) if by is not None else ("system", "system")
    await record(session, Event(Action.POLL_CLOSED, *actor, subject_ref=f"post:{post.id}",
                                details={"actor": post.actor.name, "voters": poll.voters_count}))
    return PollReason.CLOSED


async def discard_votes(session: AsyncSession, post_id: int) -> None:
    """The pseudonymous votes go when the poll closes or its post is deleted; the counts stay."""
    await session.execute(delete(PollVote).where(PollVote.post_id == post_id))


async def purge_ended_votes(session: AsyncSession, now: datetime) -> int:
    """The retention run's safety net: votes of polls that ended a day ago, should their closing never
    have run (the worker stopped for good, a job given up). Returns the rows deleted."""
    ended = select(Poll.post_id).where(Poll.expires_at <= now - VOTES_KEPT_AFTER_END)
    return (await session.execute(delete(PollVote).where(PollVote.post_id.in_(ended))
                                  .execution_options(synchronize_session=False))).rowcount


async def handle_close(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    post = await session.get(Post, int(job.payload["post_id"]))
    if post is None:
        return JobOutcome(JobStatus.DONE, PollReason.NO_POLL)
    reason = await close_poll(session, post, utcnow())
    if reason is PollReason.NOT_YET:  # moved by nobody today, but a clock may run behind the job's
        return JobOutcome(JobStatus.DEFER, reason, (await poll_of(session, post)).expires_at)
    return JobOutcome(JobStatus.DONE, None if reason is PollReason.CLOSED else reason)


async def handle_tally(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    post = await session.get(Post, int(job.payload["post_id"]))
    poll = await poll_of(session, post) if post is not None else None
    if poll is None or post.state != PostState.PUBLISHED:
        return JobOutcome(JobStatus.DONE, PollReason.NO_POLL)
    if poll.closed_at is not None:
        return JobOutcome(JobStatus.DONE, PollReason.ALREADY_CLOSED)  # the closing sent the final tally
    await delivery.enqueue_fanout(session, post, delivery.Verb.TALLY)
    return JobOutcome(JobStatus.DONE)


def handlers() -> dict:
    return {CLOSE_JOB: handle_close, TALLY_JOB: handle_tally}
