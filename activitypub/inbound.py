"""Verified inbound activities parsed into typed results, one parser per activity type.

Origin rules (FEP-fe34): embedded objects must belong to the activity's actor (same actor for notes and
undone activities, same origin for deleted objects); anything else is `Unsupported(origin_mismatch)`.
A Lemmy-style Announce by a Group wrapping another activity is reported as needing the inner object
fetched from its own origin. Parsers never raise; unknown types are `Unsupported(unknown_type)`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .notes_in import NoteIn, NoteRejected, parse_note
from .normalize import id_of, ids_of, text_of, type_of
from .origins import same_origin
from .profiles import ActorIn, parse_actor

NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question"})
UNDOABLE = frozenset({"Follow", "Like", "Announce", "EmojiReact", "Create"})  # Create: an answer to a consent request


class UnsupportedReason(enum.StrEnum):
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_OBJECT = "unsupported_object"
    ORIGIN_MISMATCH = "origin_mismatch"


@dataclass(frozen=True)
class Unsupported:
    reason: UnsupportedReason
    description: str
    activity_type: str | None = None


@dataclass(frozen=True)
class FollowIn:
    activity_id: str
    actor: str
    object: str  # our actor

    def embedded(self) -> dict[str, str]:
        """The Follow as Accept must embed it (Mastodon matches the id)."""
        return {"id": self.activity_id, "type": "Follow", "actor": self.actor, "object": self.object}


@dataclass(frozen=True)
class UndoIn:
    activity_id: str
    actor: str
    undone_type: str | None  # Follow, Like, Announce; None when only the id was given
    undone_id: str
    object: str | None  # what the undone activity was about, when embedded


@dataclass(frozen=True)
class CreateNoteIn:
    activity_id: str
    actor: str
    note: NoteIn


@dataclass(frozen=True)
class UpdateIn:
    activity_id: str
    actor: str
    object_id: str
    note: NoteIn | None = None
    profile: ActorIn | None = None


@dataclass(frozen=True)
class DeleteIn:
    activity_id: str
    actor: str
    object_id: str
    is_actor: bool  # the account itself was deleted: erase everything of that person


@dataclass(frozen=True)
class LikeIn:
    activity_id: str
    actor: str
    object_id: str
    reaction: str | None = None  # Misskey/Pleroma emoji reactions


@dataclass(frozen=True)
class AnnounceIn:
    activity_id: str
    actor: str
    object_id: str
    needs_fetch: bool  # only the id is trustworthy: fetch it from its own origin before use
    wrapped_type: str | None = None  # e.g. "Create" for Lemmy's Group Announce(Create(Note))


@dataclass(frozen=True)
class FlagIn:
    activity_id: str
    actor: str
    object_ids: tuple[str, ...]
    content: str | None


@dataclass(frozen=True)
class QuoteRequestIn:
    activity_id: str
    actor: str
    object_id: str  # our post
    instrument_id: str  # their quoting post


Inbound = (FollowIn | UndoIn | CreateNoteIn | UpdateIn | DeleteIn | LikeIn | AnnounceIn | FlagIn
           | QuoteRequestIn | Unsupported)


@dataclass(frozen=True)
class _Head:
    kind: str
    activity_id: str
    actor: str
    object: Any


def parse_activity(document: Any) -> Inbound:
    """Parse an activity whose signature (and actor binding) has already been verified."""
    if not isinstance(document, dict):
        return Unsupported(UnsupportedReason.NOT_AN_OBJECT, "activity is not a JSON object")
    kind = type_of(document)
    parser = _PARSERS.get(kind or "")
    if parser is None:
        return Unsupported(UnsupportedReason.UNKNOWN_TYPE, f"{kind or 'untyped'} activities are ignored", kind)
    activity_id, actor = id_of(document.get("id")), id_of(document.get("actor"))
    if not activity_id or not actor:
        return Unsupported(UnsupportedReason.MISSING_FIELD, "activity needs id and actor", kind)
    return parser(_Head(kind or "", activity_id, actor, document.get("object")), document)


def _missing(head: _Head, what: str) -> Unsupported:
    return Unsupported(UnsupportedReason.MISSING_FIELD, f"{head.kind} without {what}", head.kind)


def _foreign(head: _Head, what: str) -> Unsupported:
    return Unsupported(UnsupportedReason.ORIGIN_MISMATCH, f"{what} does not belong to the actor", head.kind)


def _parse_follow(head: _Head, document: dict[str, Any]) -> Inbound:
    target = id_of(head.object)
    return FollowIn(head.activity_id, head.actor, target) if target else _missing(head, "object")


def _parse_undo(head: _Head, document: dict[str, Any]) -> Inbound:
    undone_id = id_of(head.object)
    if not undone_id:
        return _missing(head, "object")
    if not isinstance(head.object, dict):
        if not same_origin(undone_id, head.actor):
            return _foreign(head, "undone activity")
        return UndoIn(head.activity_id, head.actor, None, undone_id, None)
    undone_type = type_of(head.object)
    if undone_type not in UNDOABLE:
        return Unsupported(UnsupportedReason.UNSUPPORTED_OBJECT, f"Undo of {undone_type} is ignored", head.kind)
    inner_actor = id_of(head.object.get("actor"))
    if (inner_actor and inner_actor != head.actor) or not same_origin(undone_id, head.actor):
        return _foreign(head, "undone activity")
    undone_type = "Like" if undone_type == "EmojiReact" else undone_type
    return UndoIn(head.activity_id, head.actor, undone_type, undone_id, id_of(head.object.get("object")))


def _parse_create(head: _Head, document: dict[str, Any]) -> Inbound:
    if not isinstance(head.object, dict):
        return Unsupported(UnsupportedReason.UNSUPPORTED_OBJECT, "Create without an embedded object", head.kind)
    if type_of(head.object) not in NOTE_TYPES:
        return Unsupported(UnsupportedReason.UNSUPPORTED_OBJECT, f"Create of {type_of(head.object)}", head.kind)
    note = parse_note(head.object, document.get("@context"))
    if isinstance(note, NoteRejected):
        return _missing(head, "a usable note id")
    if note.attributed_to != head.actor or not same_origin(note.id, head.actor):
        return _foreign(head, "note")
    return CreateNoteIn(head.activity_id, head.actor, note)


def _parse_update(head: _Head, document: dict[str, Any]) -> Inbound:
    object_id = id_of(head.object)
    if not isinstance(head.object, dict) or not object_id:
        return Unsupported(UnsupportedReason.UNSUPPORTED_OBJECT, "Update without an embedded object", head.kind)
    if type_of(head.object) in NOTE_TYPES:
        note = parse_note(head.object, document.get("@context"))
        if isinstance(note, NoteRejected) or note.attributed_to != head.actor or not same_origin(note.id, head.actor):
            return _foreign(head, "note")
        return UpdateIn(head.activity_id, head.actor, note.id, note=note)
    profile = parse_actor(head.object)
    if isinstance(profile, ActorIn):
        return UpdateIn(head.activity_id, head.actor, object_id, profile=profile) if profile.id == head.actor \
            else _foreign(head, "actor document")
    return Unsupported(UnsupportedReason.UNSUPPORTED_OBJECT, f"Update of {type_of(head.object)}", head.kind)


def _parse_delete(head: _Head, document: dict[str, Any]) -> Inbound:
    object_id = id_of(head.object)
    if not object_id:
        return _missing(head, "object")
    if not same_origin(object_id, head.actor):
        return _foreign(head, "deleted object")
    return DeleteIn(head.activity_id, head.actor, object_id, is_actor=object_id == head.actor)


def _parse_like(head: _Head, document: dict[str, Any]) -> Inbound:
    object_id = id_of(head.object)
    if not object_id:
        return _missing(head, "object")
    reaction = text_of(document.get("_misskey_reaction")) or text_of(document.get("content"))
    return LikeIn(head.activity_id, head.actor, object_id, reaction)


def _parse_announce(head: _Head, document: dict[str, Any]) -> Inbound:
    object_id = id_of(head.object)
    if not object_id:
        return _missing(head, "object")
    if not isinstance(head.object, dict):
        return AnnounceIn(head.activity_id, head.actor, object_id, needs_fetch=False)
    inner_type = type_of(head.object)
    if inner_type in NOTE_TYPES:
        return AnnounceIn(head.activity_id, head.actor, object_id, not same_origin(object_id, head.actor))
    # FEP-1b12 (Lemmy): the Group's signature vouches for nothing inside; fetch the inner object itself.
    inner_object = id_of(head.object.get("object")) or object_id
    return AnnounceIn(head.activity_id, head.actor, inner_object, needs_fetch=True, wrapped_type=inner_type)


def _parse_flag(head: _Head, document: dict[str, Any]) -> Inbound:
    object_ids = tuple(ids_of(head.object))
    if not object_ids:
        return _missing(head, "object")
    return FlagIn(head.activity_id, head.actor, object_ids, text_of(document.get("content")))


def _parse_quote_request(head: _Head, document: dict[str, Any]) -> Inbound:
    object_id, instrument_id = id_of(head.object), id_of(document.get("instrument"))
    if not object_id or not instrument_id:
        return _missing(head, "object and instrument")
    if not same_origin(instrument_id, head.actor):
        return _foreign(head, "quoting post")
    return QuoteRequestIn(head.activity_id, head.actor, object_id, instrument_id)


_PARSERS: dict[str, Callable[[_Head, dict[str, Any]], Inbound]] = {
    "Follow": _parse_follow,
    "Undo": _parse_undo,
    "Create": _parse_create,
    "Update": _parse_update,
    "Delete": _parse_delete,
    "Like": _parse_like,
    "EmojiReact": _parse_like,
    "Announce": _parse_announce,
    "Flag": _parse_flag,
    "QuoteRequest": _parse_quote_request,
}
