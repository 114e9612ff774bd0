"""Delete of a reply we hold (erase it) or of the account itself (erase everything of that person:
rows deleted, key destroyed, queued answers to them cancelled)."""

from __future__ import annotations


from activitypub.inbound import DeleteIn
from bridge.privacy import erasure
from bridge.inbound import consent_answer
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.people import existing
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
    await erasure.zero_what_is_deleted(ctx.session)
    result = await erase_reply(ctx.session, ctx.vault, subject, activity.object_id)
    return Handled(_EFFECTS[result.reason], subject)


async def erase_person(ctx: InboundContext, subject: Subject) -> Handled:
    details = await erasure.erase_person(ctx.session, ctx.vault, subject, ctx.now)
    return Handled(Effect.SUBJECT_ERASED, subject, details)
