"""Follow of one of our accounts: store the follower, answer with an Accept that embeds the Follow."""

from __future__ import annotations

from activitypub import vocab
from activitypub.inbound import FollowIn
from bridge.delivery.jobs import enqueue_direct
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.local import local_actor
from bridge.inbound.people import learn
from consent.followers import add_follower


async def handle(ctx: InboundContext, activity: FollowIn) -> Handled:
    name = local_actor(ctx.config, ctx.uris, activity.object)
    if name is None:
        return Handled(Effect.UNKNOWN_LOCAL_ACTOR)
    # Their inbox comes from their own server, never from the activity: we answer where they live.
    follower = await learn(ctx, activity.actor)
    if isinstance(follower, Effect):
        return Handled(follower)
    added = await add_follower(ctx.session, ctx.vault, follower.subject, name, activity.activity_id)
    accept = vocab.accept_follow(ctx.uris, name, activity.embedded())
    # A repeated Follow is answered again: the follower's server may have lost our first Accept.
    await enqueue_direct(ctx.session, name, follower.inbox, accept, follower.subject.id)
    return Handled(Effect.FOLLOWER_ADDED if added else Effect.FOLLOW_RENEWED, follower.subject,
                   {"account": name})
