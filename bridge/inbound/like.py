"""Like (and emoji reaction) of one of our posts: counted, with nothing kept beyond what undoing needs."""

from __future__ import annotations

from activitypub.inbound import LikeIn
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.local import local_post
from bridge.inbound.people import person
from consent.interactions import InteractionKind, add_interaction


async def handle(ctx: InboundContext, activity: LikeIn) -> Handled:
    return await count(ctx, activity.activity_id, activity.actor, activity.object_id, InteractionKind.LIKE)


async def count(ctx: InboundContext, activity_id: str, actor: str, object_id: str,
                kind: InteractionKind) -> Handled:
    """Shared by likes and boosts: both are a counter on one of our posts."""
    post = await local_post(ctx.session, ctx.config, ctx.uris, object_id)
    if post is None:
        return Handled(Effect.NOT_FOR_US)
    # Fetched when new: edits and deletions of the post must reach everyone who interacted with it.
    who = await person(ctx, actor)
    if isinstance(who, Effect):
        return Handled(who)
    added = await add_interaction(ctx.session, ctx.vault, who.subject, activity_id, post.id, kind, ctx.now)
    return Handled(Effect.INTERACTION_ADDED if added else Effect.ALREADY_DONE, who.subject, {"kind": str(kind)})
