"""A vote in one of our polls, as Mastodon sends it: `Create(Note)` whose `name` is the option and whose
`inReplyTo` is the question, addressed to the account only. Counted, never stored as a reply, never shown;
the voter is kept only as a keyed pseudonym within the poll until it closes (`publishing.polls`)."""

from __future__ import annotations

from activitypub.inbound import CreateNoteIn
from activitypub.profiles import ActorIn, parse_actor
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.local import is_ours, local_post
from bridge.publishing.polls import VoteReason, record_vote
from consent.subjects import known_actor

_EFFECTS = {
    VoteReason.COUNTED: Effect.VOTE_COUNTED,
    VoteReason.NOT_A_POLL: Effect.VOTE_NOT_A_POLL,
    VoteReason.UNKNOWN_OPTION: Effect.VOTE_UNKNOWN_OPTION,
    VoteReason.POLL_CLOSED: Effect.VOTE_POLL_CLOSED,
    VoteReason.ALREADY_VOTED: Effect.VOTE_ALREADY_VOTED,
}


def is_vote_for_us(ctx: InboundContext, activity: CreateNoteIn) -> bool:
    return activity.note.is_vote and is_ours(ctx.uris, activity.note.in_reply_to)


async def handle(ctx: InboundContext, activity: CreateNoteIn) -> Handled:
    note = activity.note
    if note.attributed_to not in (None, activity.actor):
        return Handled(Effect.NOT_AUTHOR)
    post = await local_post(ctx.session, ctx.config, ctx.uris, note.in_reply_to)
    if post is None:
        return Handled(Effect.VOTE_NOT_A_POLL)
    reason = await record_vote(ctx.session, ctx.vault.pseudonymizer, post.id, activity.actor, note.name or "",
                               await _server_inbox(ctx, activity.actor), ctx.now)
    # The audit names the poll and the sender's server; neither the voter nor (for a secret ballot) the choice.
    return Handled(_EFFECTS[reason], details={"post": post.id})


async def _server_inbox(ctx: InboundContext, actor: str) -> str | None:
    """The voter's server's shared inbox (a server's address, not a person's), if we know it already."""
    document = ctx.federation.keys.recent_actor(actor)
    profile = parse_actor(document) if document is not None else None
    if isinstance(profile, ActorIn) and profile.id == actor:
        return profile.shared_inbox
    known = await known_actor(ctx.session, ctx.vault, actor)
    return known.shared_inbox if known is not None else None
