"""Delete of a reply we hold (erase it) or of the account itself (erase everything of that person:
rows deleted, key destroyed, queued answers to them cancelled)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.inbound import DeleteIn
from bridge.db import utcnow
from bridge.delivery import DIRECT_JOB
from bridge.inbound import consent_answer
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.people import existing
from bridge.models import Job, JobState
from consent.erasure import erase_subject
from consent.models import Subject
from consent.replies import ReplyReason, erase_reply

_EFFECTS = {
    ReplyReason.ERASED: Effect.REPLY_ERASED,
    ReplyReason.NOT_FOUND: Effect.NOT_FOR_US,
    ReplyReason.NOT_AUTHOR: Effect.NOT_AUTHOR,
}


async def handle(ctx: InboundContext, activity: DeleteIn) -> Handled:
    subject = await existing(ctx, activity.actor)
    if subject is None:
        return Handled(Effect.UNKNOWN_SUBJECT)  # never knew them: nothing to erase, nothing to fetch
    if activity.is_actor:
        return await erase_person(ctx, subject)
    withdrawn = await consent_answer.deleted(ctx, subject, activity.object_id)  # consent goes before the reply
    if withdrawn is not None:
        return withdrawn
    result = await erase_reply(ctx.session, ctx.vault, subject, activity.object_id)
    return Handled(_EFFECTS[result.reason], subject)


async def erase_person(ctx: InboundContext, subject: Subject) -> Handled:
    erasure = await erase_subject(ctx.session, ctx.vault, subject, ctx.now)
    cancelled = await cancel_direct_jobs(ctx.session, subject.id)
    return Handled(Effect.SUBJECT_ERASED, subject, {**erasure.as_dict(), "jobs_cancelled": cancelled})


async def cancel_direct_jobs(session: AsyncSession, subject_id: int) -> int:
    """Queued answers (Accept, Reject) to an erased person carry their inbox: they must not be sent."""
    queued = (await session.scalars(select(Job).where(Job.kind == DIRECT_JOB, Job.state == JobState.QUEUED))).all()
    mine = [job for job in queued if (job.payload or {}).get("subject_id") == subject_id]
    for job in mine:
        job.state, job.finished_at, job.payload = JobState.CANCELLED, utcnow(), {"subject_id": subject_id}
    return len(mine)
