"""Remote accounts mentioned in a post: found by WebFinger when the post goes out, so that the Mention
tag and `cc` carry their actor id and the post reaches them even if they do not follow us — as Mastodon
does. What we learn about them (inbox, handle) is kept in the consent store like any remote actor.

Lookups happen before anything is written, so no database write lock waits on another server.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.discovery import LookupFailed, look_up_account
from activitypub.uris import INSTANCE_ACTOR_NAME
from bridge.convert.actors import facts_of
from bridge.queue.context import WorkerContext
from bridge.store.models import Post
from bridge.convert.text import parse_text
from consent.followers import Inbox
from consent.subjects import find_subject, known_actors, remember_actor

log = logging.getLogger("stadtbote.mentions")

MAX_LOOKUPS = 10  # new handles per fan-out: bounds how long one post waits on other servers


def remote_mentions(post: Post, own_host: str) -> list[str]:
    """`user@host` handles (lower case) of other servers named in the post's text."""
    return [acct.lower() for acct in parse_text(post.text, own_host).mentions
            if acct.partition("@")[2].lower() != own_host.lower()]


async def resolve_mentions(ctx: WorkerContext, session: AsyncSession, post: Post) -> None:
    """Looks up the handles not resolved yet and records their actor ids on the post (in the caller's
    transaction). A handle that cannot be resolved keeps its profile-URL link and is retried next time."""
    uris = ctx.federation.uris
    resolved = dict(post.mention_actors or {})
    wanted = [a for a in remote_mentions(post, uris.host) if a not in resolved][:MAX_LOOKUPS]
    if not wanted:
        return
    signer = await ctx.federation.signer(session, INSTANCE_ACTOR_NAME)
    found = {}
    for acct in wanted:
        actor = await look_up_account(ctx.federation.http, acct, signer)
        facts = None if isinstance(actor, LookupFailed) else facts_of(actor)
        if facts is None:
            reason = actor.reason if isinstance(actor, LookupFailed) else "no_inbox"
            log.info("mention not resolved post=%s host=%s reason=%s", post.id, acct.partition("@")[2], reason)
            continue
        found[acct] = facts
    for acct, facts in found.items():
        known = await find_subject(session, ctx.federation.vault, facts.uri)
        if known is not None and known.wrapped_key is None:  # erased: nothing is stored for them again
            log.info("mention not resolved post=%s host=%s reason=subject_erased", post.id, acct.partition("@")[2])
            continue
        await remember_actor(session, ctx.federation.vault, facts)
        resolved[acct] = facts.uri
    post.mention_actors = resolved


async def mention_inboxes(ctx: WorkerContext, session: AsyncSession, post: Post) -> list[Inbox]:
    """Where the mentioned accounts receive the post (their server's shared inbox where it has one)."""
    own = set(remote_mentions(post, ctx.federation.uris.host))
    uris = [uri for acct, uri in (post.mention_actors or {}).items() if acct in own]
    actors = await known_actors(session, ctx.federation.vault, uris)
    return [Inbox(a.shared_inbox or a.inbox, a.shared_inbox is not None) for a in actors.values()]
