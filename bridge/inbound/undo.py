"""Undo of a Follow, Like or Announce (Misskey/Pleroma emoji reactions count as likes)."""

from __future__ import annotations

from activitypub.inbound import UndoIn
from bridge.inbound import consent_answer
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.local import local_actor, local_post
from bridge.inbound.people import existing
from consent.followers import remove_follower
from consent.interactions import InteractionKind, remove_interaction

_KINDS = {"Like": InteractionKind.LIKE, "Announce": InteractionKind.ANNOUNCE}


async def handle(ctx: InboundContext, activity: UndoIn) -> Handled:
    subject = await existing(ctx, activity.actor)
    if subject is None:
        return Handled(Effect.UNKNOWN_SUBJECT)
    if activity.undone_type in (None, "Create"):  # maybe the answer that gave consent
        withdrawn = await consent_answer.undone(ctx, subject, activity.undone_id)
        if withdrawn is not None or activity.undone_type == "Create":
            return withdrawn or Handled(Effect.NOTHING_TO_UNDO, subject)
    if activity.undone_type == "Follow":
        name = local_actor(ctx.config, ctx.uris, activity.object)
        if activity.object is not None and name is None:
            return Handled(Effect.NOT_FOR_US, subject)
        removed = await remove_follower(ctx.session, subject, name)
        return Handled(Effect.FOLLOWER_REMOVED if removed else Effect.NOTHING_TO_UNDO, subject,
                       {"account": name} if name else {})
    post = await local_post(ctx.session, ctx.config, ctx.uris, activity.object)
    kind = _KINDS.get(activity.undone_type or "")
    removed = await remove_interaction(ctx.session, ctx.vault, subject, activity.undone_id,
                                       post.id if post else None, kind)
    return Handled(Effect.INTERACTION_REMOVED if removed else Effect.NOTHING_TO_UNDO, subject)
