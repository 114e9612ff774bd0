"""One handler per activity type; anything the parser could not type is accepted and ignored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from activitypub.inbound import (
    AnnounceIn,
    CreateNoteIn,
    DeleteIn,
    FlagIn,
    FollowIn,
    Inbound,
    LikeIn,
    QuoteRequestIn,
    UndoIn,
    Unsupported,
    UnsupportedReason,
    UpdateIn,
)
from bridge.inbound import announce, create, delete, flag, follow, like, quote, undo, update
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled

HANDLERS: dict[type, Callable[[InboundContext, Any], Awaitable[Handled]]] = {
    FollowIn: follow.handle,
    UndoIn: undo.handle,
    CreateNoteIn: create.handle,
    UpdateIn: update.handle,
    DeleteIn: delete.handle,
    LikeIn: like.handle,
    AnnounceIn: announce.handle,
    FlagIn: flag.handle,
    QuoteRequestIn: quote.handle,
}


async def dispatch(ctx: InboundContext, activity: Inbound) -> Handled:
    if isinstance(activity, Unsupported):
        unknown = activity.reason is UnsupportedReason.UNKNOWN_TYPE
        return Handled(Effect.IGNORED_TYPE if unknown else Effect.UNSUPPORTED,
                       details={"why": str(activity.reason)})
    return await HANDLERS[type(activity)](ctx, activity)
