"""Answers to our consent requests, and the activities that take consent back.

A Create whose note replies to one of our consent-request DMs is an answer, never a reply to store: a
signed "JA"/"YES" from the person asked gives consent (receipt with the activity id and the signing key
id), "STOP"/"NEIN" withdraws it. An Undo of the answering activity, a Delete of the answering note, or a
Delete of the reply itself withdraw it too — with immediate effect, since public pages ask the store on
every view. (No citizen reply is mirrored to platforms yet, so there are no copies elsewhere to remove.)
"""

from __future__ import annotations

from activitypub.inbound import CreateNoteIn
from activitypub.sanitize import html_to_text
from bridge.privacy.consent_audit import record_consent
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.local import is_ours
from bridge.inbound.people import existing
from consent.consents import Answer, Channel, ConsentReason, find_request, give, read_answer, withdraw_answer, \
    withdraw_reply, withdraw_request
from consent.models import Subject
from consent.replies import find_reply

_EFFECTS = {
    ConsentReason.GIVEN: Effect.CONSENT_GIVEN,
    ConsentReason.ALREADY_GIVEN: Effect.ALREADY_DONE,
    ConsentReason.WITHDRAWN: Effect.CONSENT_WITHDRAWN,
    ConsentReason.NOTHING_TO_WITHDRAW: Effect.NOTHING_TO_UNDO,
    ConsentReason.NOT_AUTHOR: Effect.NOT_AUTHOR,
    ConsentReason.SUBJECT_ERASED: Effect.SUBJECT_GONE,
}


async def answer(ctx: InboundContext, activity: CreateNoteIn) -> Handled | None:
    """The handled answer, or None when the note does not answer one of our requests."""
    note = activity.note
    if not note.in_reply_to or not is_ours(ctx.uris, note.in_reply_to):
        return None
    request = await find_request(ctx.session, ctx.vault, note.in_reply_to)
    if request is None:
        return None
    subject = await existing(ctx, activity.actor)
    if subject is None or subject.id != request.subject_id:
        return Handled(Effect.NOT_AUTHOR, subject)  # only the person asked may answer for their reply
    said = read_answer(html_to_text(note.content_html))
    if said is Answer.YES:
        result = await give(ctx.session, ctx.vault, subject, request, activity_id=activity.activity_id,
                            note_id=note.id, key_id=ctx.key_id or "", now=ctx.now)
    elif said is Answer.STOP:
        result = await withdraw_request(ctx.session, request, Channel.DM_ANSWER, ctx.now)
    else:
        return Handled(Effect.CONSENT_UNCLEAR, subject, {"reply": request.reply_id})
    await record_consent(ctx.session, result, subject, request.purpose, Channel.DM_ANSWER)
    return Handled(_EFFECTS[result.reason], subject, {"reply": result.reply_id})


async def undone(ctx: InboundContext, subject: Subject, undone_id: str) -> Handled | None:
    """Undo of an answering activity: consent withdrawn. None when the Undo is about something else."""
    result = await withdraw_answer(ctx.session, ctx.vault, subject, activity_id=undone_id, now=ctx.now)
    if result.reason is not ConsentReason.WITHDRAWN:
        return None
    await record_consent(ctx.session, result, subject, ctx.config.consent.purpose, Channel.UNDO)
    return Handled(Effect.CONSENT_WITHDRAWN, subject, {"reply": result.reply_id})


async def deleted(ctx: InboundContext, subject: Subject, object_id: str) -> Handled | None:
    """Delete of an answering note: withdrawn, handled here. Delete of a reply with consent: withdrawn,
    then the caller erases the reply (None). Anything else: None."""
    result = await withdraw_answer(ctx.session, ctx.vault, subject, note_id=object_id, now=ctx.now)
    if result.reason is ConsentReason.WITHDRAWN:
        await record_consent(ctx.session, result, subject, ctx.config.consent.purpose, Channel.DELETE_ANSWER)
        return Handled(Effect.CONSENT_WITHDRAWN, subject, {"reply": result.reply_id})
    reply = await find_reply(ctx.session, ctx.vault, object_id)
    if reply is not None and reply.subject_id == subject.id:
        result = await withdraw_reply(ctx.session, reply.id, Channel.DELETE_REPLY, ctx.now)
        await record_consent(ctx.session, result, subject, ctx.config.consent.purpose, Channel.DELETE_REPLY)
    return None
