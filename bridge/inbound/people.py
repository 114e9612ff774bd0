"""The people behind inbound activities: their subject in the consent store and, where we need to
answer them or honour their opt-outs, their actor document fetched from their own server."""

from __future__ import annotations

from dataclasses import dataclass

from activitypub.fetch import Fetched, FetchFailed
from activitypub.profiles import ActorIn, parse_actor
from bridge.convert.actors import facts_of
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect
from consent.models import Subject
from consent.policy import Standing
from consent.signals import ProfileSignals
from consent.subjects import KnownActor, KnownProfile, ensure_subject, find_subject, known_actor, remember_actor


@dataclass(frozen=True)
class Person:
    """A subject we may store things for, with what we know of their profile (if anything)."""

    subject: Subject
    signals: ProfileSignals
    inbox: str | None
    profile_known: bool


async def learn(ctx: InboundContext, uri: str) -> Person | Effect:
    """Fetch the actor from its server and remember it (Follow, QuoteRequest: we must answer them)."""
    subject = await find_subject(ctx.session, ctx.vault, uri)
    if Standing.of(subject) is Standing.OBJECTED:
        return Effect.SUBJECT_OBJECTED
    return await _learn(ctx, uri, subject)


async def _learn(ctx: InboundContext, uri: str, subject: Subject | None) -> Person | Effect:
    """`learn` for someone who has not objected; `subject` is theirs as just looked up, or None."""
    if Standing.of(subject) is Standing.ERASED:
        return Effect.SUBJECT_GONE
    recent = ctx.federation.keys.recent_actor(uri)  # fetched with their key for this very request
    fetched = Fetched(uri, recent) if recent is not None else await ctx.fetch(uri)
    if isinstance(fetched, FetchFailed):
        return Effect.ACTOR_FETCH_FAILED
    profile = parse_actor(fetched.document)
    facts = facts_of(profile) if isinstance(profile, ActorIn) and profile.id == uri else None
    if facts is None:
        return Effect.ACTOR_FETCH_FAILED
    subject = await remember_actor(ctx.session, ctx.vault, facts, subject)
    return Person(subject, ProfileSignals.from_dict(facts.signals), facts.inbox, True)


def person_of(known: KnownActor | KnownProfile) -> Person:
    inbox = known.inbox if isinstance(known, KnownActor) else None  # a reply needs no inbox
    return Person(known.subject, ProfileSignals.from_dict(known.signals), inbox, True)


async def person(ctx: InboundContext, uri: str, *, fetch: bool = True) -> Person | Effect:
    """Known actors come from the store; unknown ones are fetched (when `fetch`) so that their opt-out
    signals are honoured and edits of our posts reach them; if that fails they are still counted."""
    subject = await find_subject(ctx.session, ctx.vault, uri)  # one lookup serves every check below
    if Standing.of(subject) is Standing.OBJECTED:
        return Effect.SUBJECT_OBJECTED  # Art. 21: no new replies, likes or boosts of theirs are kept
    if subject is not None:
        known = await known_actor(ctx.session, ctx.vault, uri)
        if known is not None:
            return person_of(known)
    if fetch:
        learned = await _learn(ctx, uri, subject)
        if not isinstance(learned, Effect) or learned is Effect.SUBJECT_GONE:
            return learned
    subject = subject or await ensure_subject(ctx.session, ctx.vault, uri)
    if Standing.of(subject) is Standing.ERASED:
        return Effect.SUBJECT_GONE
    return Person(subject, ProfileSignals(), None, False)


async def existing(ctx: InboundContext, uri: str) -> Subject | None:
    """The subject of someone we already know (for Undo, Delete, Update: never creates one)."""
    return await find_subject(ctx.session, ctx.vault, uri)
