"""Update of a reply we hold (new text, same moderation state) or of a person's profile (new inbox,
name, opt-out signals; and a possibly rotated key, so their cached key is dropped)."""

from __future__ import annotations

from activitypub.inbound import UpdateIn
from activitypub.notes_in import NoteIn
from activitypub.profiles import ActorIn
from bridge.inbound.context import InboundContext
from bridge.inbound.create import Concern, facts_for
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.people import Person
from bridge.convert.actors import facts_of, signals_of
from consent.replies import ReplyReason, find_reply, update_reply
from consent.signals import ProfileSignals
from consent.subjects import known_actor, remember_actor

_EFFECTS = {
    ReplyReason.UPDATED: Effect.REPLY_UPDATED,
    ReplyReason.NOT_FOUND: Effect.NOT_FOR_US,
    ReplyReason.NOT_AUTHOR: Effect.NOT_AUTHOR,
    ReplyReason.SUBJECT_ERASED: Effect.SUBJECT_GONE,
}


async def handle(ctx: InboundContext, activity: UpdateIn) -> Handled:
    if activity.note is not None:
        return await _note(ctx, activity.actor, activity.note)
    if activity.profile is not None:
        return await _profile(ctx, activity.profile)
    return Handled(Effect.UNSUPPORTED)


async def _note(ctx: InboundContext, actor: str, note: NoteIn) -> Handled:
    known = await known_actor(ctx.session, ctx.vault, actor)
    reply = await find_reply(ctx.session, ctx.vault, note.id)
    if known is None or reply is None:
        return Handled(Effect.NOT_FOR_US)  # we keep no copy of it; an edit does not make it ours
    author = Person(known.subject, ProfileSignals.from_dict(known.signals), known.inbox, True)
    facts = facts_for(note, Concern(reply.actor_name, reply.post_id), author)
    result = await update_reply(ctx.session, ctx.vault, known.subject, facts, ctx.now)
    return Handled(_EFFECTS[result.reason], known.subject)


async def _profile(ctx: InboundContext, profile: ActorIn) -> Handled:
    known = await known_actor(ctx.session, ctx.vault, profile.id)
    if known is None:
        return Handled(Effect.UNKNOWN_SUBJECT)  # strangers' profiles are not collected
    facts = facts_of(profile, fallback_inbox=known.inbox)
    subject = await remember_actor(ctx.session, ctx.vault, facts)
    if profile.key_id:
        ctx.federation.keys.forget(profile.key_id)  # the next request fetches the (maybe new) key
    return Handled(Effect.SUBJECT_UPDATED, subject, {"opted_out": signals_of(profile).opted_out})
