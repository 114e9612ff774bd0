"""QuoteRequest (FEP-044f, Mastodon 4.5) for one of our posts: Accept with a QuoteAuthorization that
we serve at its id, or Reject, as the account's `quote_policy` says."""

from __future__ import annotations

from activitypub import vocab
from activitypub.inbound import QuoteRequestIn
from bridge.delivery.jobs import enqueue_direct
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.local import LocalPost, local_post
from bridge.inbound.people import Person, learn
from consent.followers import is_follower
from consent.quotes import grant_quote
from consent.signals import ProfileSignals
from consent.subjects import known_actor


async def handle(ctx: InboundContext, activity: QuoteRequestIn) -> Handled:
    post = await local_post(ctx.session, ctx.config, ctx.uris, activity.object_id)
    if post is None:
        return Handled(Effect.UNKNOWN_POST)
    requester = await _requester(ctx, activity.actor)
    if isinstance(requester, Effect):
        return Handled(requester)
    # Only ids are echoed back: the quoting post's text is theirs, not ours to copy into our queue.
    request = {"id": activity.activity_id, "type": "QuoteRequest", "actor": activity.actor,
               "object": activity.object_id, "instrument": activity.instrument_id}
    if await _allowed(ctx, post, requester):
        token = await grant_quote(ctx.session, ctx.vault, requester.subject, post.actor_name, post.id,
                                  activity.activity_id, activity.instrument_id, ctx.now)
        answer, effect = vocab.accept_quote(ctx.uris, post.actor_name, request, token), Effect.QUOTE_ACCEPTED
    else:
        answer, effect = vocab.reject_quote(ctx.uris, post.actor_name, request), Effect.QUOTE_REJECTED
    await enqueue_direct(ctx.session, post.actor_name, requester.inbox, answer, requester.subject.id)
    return Handled(effect, requester.subject, {"account": post.actor_name})


async def _requester(ctx: InboundContext, uri: str) -> Person | Effect:
    known = await known_actor(ctx.session, ctx.vault, uri)
    if known is not None:
        return Person(known.subject, ProfileSignals.from_dict(known.signals), known.inbox, True)
    return await learn(ctx, uri)


async def _allowed(ctx: InboundContext, post: LocalPost, requester: Person) -> bool:
    account = ctx.config.actor(post.actor_name)
    policy = account.quote_policy if account is not None else "nobody"
    if policy == "public":
        return True
    if policy == "followers":
        return await is_follower(ctx.session, requester.subject, post.actor_name)
    return False
