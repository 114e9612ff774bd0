"""Flag (a report) about one of our accounts or posts: a report row for the moderators."""

from __future__ import annotations

from activitypub.inbound import FlagIn
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.local import local_actor, local_post
from bridge.inbound.people import person
from consent.reports import add_report


async def handle(ctx: InboundContext, activity: FlagIn) -> Handled:
    post_ids = []
    accounts = set()
    for object_id in activity.object_ids:
        post = await local_post(ctx.session, ctx.config, ctx.uris, object_id)
        if post is not None:
            post_ids.append(post.id)
            accounts.add(post.actor_name)
        elif (name := local_actor(ctx.config, ctx.uris, object_id)) is not None:
            accounts.add(name)
    if not accounts:
        return Handled(Effect.NOT_FOR_US)
    # Usually a server's instance actor (Mastodon hides the reporting person): no profile fetch needed.
    sender = await person(ctx, activity.actor, fetch=False)
    subject = None if isinstance(sender, Effect) else sender.subject
    await add_report(ctx.session, ctx.vault, subject, ctx.sender_domain, activity.content, post_ids, ctx.now)
    return Handled(Effect.REPORT_RECEIVED, subject, {"posts": len(post_ids), "accounts": sorted(accounts)})
