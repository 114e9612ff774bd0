"""Announce: a boost of one of our posts is counted; a Lemmy-style Announce by a Group wrapping another
activity (FEP-1b12) vouches for nothing inside, so the inner object is fetched from its own origin and
only what that server says is handled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from activitypub.fetch import FetchFailed
from activitypub.inbound import AnnounceIn, CreateNoteIn, DeleteIn, LikeIn, UndoIn, UpdateIn, parse_activity
from activitypub.normalize import id_of
from activitypub.notes_in import NoteIn, parse_note
from activitypub.origins import same_origin
from bridge.inbound import create, delete, like, undo, update
from bridge.inbound.context import InboundContext
from bridge.inbound.effects import Effect, Handled
from consent.interactions import InteractionKind

_INNER: dict[type, Callable[[InboundContext, Any], Awaitable[Handled]]] = {
    CreateNoteIn: create.handle, LikeIn: like.handle, UndoIn: undo.handle, DeleteIn: delete.handle,
    UpdateIn: update.handle,
}


async def handle(ctx: InboundContext, activity: AnnounceIn) -> Handled:
    if activity.wrapped_type is None:
        return await like.count(ctx, activity.activity_id, activity.actor, activity.object_id,
                                InteractionKind.ANNOUNCE)
    if activity.wrapped_type == "Create":
        return await _wrapped_note(ctx, activity)
    return await _wrapped_activity(ctx)


async def _wrapped_note(ctx: InboundContext, activity: AnnounceIn) -> Handled:
    # The embedded copy decides only whether fetching is worth it; the fetched copy decides the rest.
    inner = ctx.document.get("object")
    embedded = parse_note(inner.get("object")) if isinstance(inner, dict) else None
    if isinstance(embedded, NoteIn) and isinstance(await create.concern(ctx, embedded), Effect):
        return Handled(Effect.NOT_FOR_US)
    fetched = await ctx.fetch(activity.object_id)
    if isinstance(fetched, FetchFailed):
        return Handled(Effect.OBJECT_FETCH_FAILED)
    note = parse_note(fetched.document)
    if not isinstance(note, NoteIn) or not note.attributed_to or not same_origin(note.id, note.attributed_to):
        return Handled(Effect.UNSUPPORTED)
    inner_id = id_of(inner.get("id")) if isinstance(inner, dict) else None
    return await create.handle(ctx, CreateNoteIn(inner_id or activity.activity_id, note.attributed_to, note))


async def _wrapped_activity(ctx: InboundContext) -> Handled:
    inner_id = id_of(ctx.document.get("object"))
    if not inner_id:
        return Handled(Effect.UNSUPPORTED)
    fetched = await ctx.fetch(inner_id)
    if isinstance(fetched, FetchFailed):
        return Handled(Effect.OBJECT_FETCH_FAILED)
    parsed = parse_activity(fetched.document)
    handler = _INNER.get(type(parsed))
    if handler is None or not same_origin(parsed.actor, inner_id):
        return Handled(Effect.UNSUPPORTED)
    return await handler(ctx, parsed)
