"""Create of a Note that replies to one of our posts (or to a reply we hold) or mentions one of our
accounts: stored, sanitised and sealed, as a pending reply for moderation. Anything else is ignored."""

from __future__ import annotations

from dataclasses import dataclass

from activitypub.inbound import CreateNoteIn
from activitypub.notes_in import NoteIn
from activitypub.sanitize import sanitize_html
from bridge.inbound import consent_answer, vote
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.local import is_ours, local_post, mentioned_actor
from bridge.inbound.people import Person, person
from consent.policy import ReplyCase, Standing, Verdict, decide
from consent.replies import ReplyFacts, ReplyReason, find_reply, store_reply
from consent.signals import reply_snapshot

_EFFECTS = {
    ReplyReason.STORED: Effect.REPLY_STORED,
    ReplyReason.ALREADY_STORED: Effect.ALREADY_DONE,
    ReplyReason.NOT_AUTHOR: Effect.NOT_AUTHOR,
    ReplyReason.SUBJECT_ERASED: Effect.SUBJECT_GONE,
}
_REFUSED = {  # what the consent policy's verdicts other than STORE answer
    Verdict.ALREADY_STORED: Effect.ALREADY_DONE,
    Verdict.NOT_AUTHOR: Effect.NOT_AUTHOR,
    Verdict.SUBJECT_OBJECTED: Effect.SUBJECT_OBJECTED,
    Verdict.SUBJECT_ERASED: Effect.SUBJECT_GONE,
}


@dataclass(frozen=True)
class Concern:
    actor_name: str  # our account the note concerns
    post_id: int | None  # our post it belongs under; None for a mention elsewhere


async def concern(ctx: InboundContext, note: NoteIn) -> Concern | Effect:
    """Which of our accounts and posts a note is about, if any."""
    if note.in_reply_to and is_ours(ctx.uris, note.in_reply_to):
        post = await local_post(ctx.session, ctx.config, ctx.uris, note.in_reply_to)
        # A reply to a post we never published (or deleted) is dropped even if it mentions us.
        return Concern(post.actor_name, post.id) if post else Effect.UNKNOWN_POST
    if note.in_reply_to:
        parent = await find_reply(ctx.session, ctx.vault, note.in_reply_to)
        if parent is not None:
            return Concern(parent.actor_name, parent.post_id)  # a reply within a thread under our post
    name = mentioned_actor(ctx.config, ctx.uris, note.mentions) \
        or mentioned_actor(ctx.config, ctx.uris, (*note.to, *note.cc))
    return Concern(name, None) if name else Effect.NOT_FOR_US


def facts_for(note: NoteIn, where: Concern, author: Person, sanitized: str | None = None) -> ReplyFacts:
    """`sanitized`: the note's content already through `sanitize_html` (the batch writer does that before
    it takes the write lock)."""
    signals = reply_snapshot(author.signals, note.visibility, profile_known=author.profile_known)
    content = sanitize_html(note.content_html) if sanitized is None else sanitized
    return ReplyFacts(object_id=note.id, actor_name=where.actor_name, post_id=where.post_id,
                      content_html=content, summary=note.summary, url=note.url, signals=signals)


async def handle(ctx: InboundContext, activity: CreateNoteIn) -> Handled:
    if vote.is_vote_for_us(ctx, activity):  # a poll vote is counted, never kept as a reply
        return await vote.handle(ctx, activity)
    answered = await consent_answer.answer(ctx, activity)  # "JA"/"STOP" to a consent request: not a reply
    if answered is not None:
        return answered
    where = await concern(ctx, activity.note)
    if isinstance(where, Effect):
        return Handled(where)
    author = await person(ctx, activity.actor)
    if isinstance(author, Effect):
        return Handled(author)
    existing = await find_reply(ctx.session, ctx.vault, activity.note.id)
    verdict = decide(ReplyCase(Standing.of(author.subject), author.subject.id,
                               existing.subject_id if existing is not None else None))
    if verdict is not Verdict.STORE:
        return Handled(_REFUSED[verdict], author.subject, {"account": where.actor_name})
    result = await store_reply(ctx.session, ctx.vault, author.subject, facts_for(activity.note, where, author),
                               ctx.retention, ctx.now)
    return Handled(_EFFECTS[result.reason], author.subject, {"account": where.actor_name})
