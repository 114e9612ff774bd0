"""Events of our posts: announced with the post, changed or cancelled later on their own form. Every change
goes to followers as an `Update` of the Event (a cancellation with `ical:status` CANCELLED, as Mobilizon
sends it); deleting the post sends the `Delete`, as for any post."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bridge.auth.users import may_use_actor, user_ref
from bridge.delivery import jobs as delivery
from bridge.publishing import edits
from bridge.publishing.eventrules import EventDraft, event_problems
from bridge.store.events import EventStatus, PostEvent, event_of
from bridge.store.models import Post, PostState, User
from consent.audit import Action, Event, record


class EventReason(enum.StrEnum):
    OK = "ok"
    NO_EVENT = "event_missing"
    NOT_ALLOWED = "event_not_allowed"
    INVALID = "event_invalid"
    GONE = "event_post_gone"
    AWAITING_APPROVAL = "event_awaiting_approval"

    @property
    def description(self) -> str:
        return EVENT_TEXT[self]


EVENT_TEXT = {
    EventReason.OK: "done",
    EventReason.NO_EVENT: "the post announces no event",
    EventReason.NOT_ALLOWED: "you may not change events of this account",
    EventReason.INVALID: "the event breaks a rule",
    EventReason.GONE: "the post was deleted",
    EventReason.AWAITING_APPROVAL: "the change waits for a second editor's approval (four-eyes account)",
}


def _apply(row: PostEvent, draft: EventDraft) -> None:
    row.title, row.starts_at, row.ends_at = draft.title.strip(), draft.starts_at, draft.ends_at
    row.all_day, row.timezone = draft.all_day, draft.timezone
    row.place_name, row.street_address = draft.place_name.strip(), draft.street_address.strip()
    row.postal_code, row.locality = draft.postal_code.strip(), draft.locality.strip()
    row.online_url = draft.online_url.strip()


def attach_event(session: AsyncSession, post: Post, draft: EventDraft | None) -> PostEvent | None:
    """The new (flushed) post's event, if the draft has one; set as loaded either way (no lazy loads)."""
    row = None
    if draft is not None:
        row = PostEvent(post_id=post.id, status=EventStatus.CONFIRMED)
        _apply(row, draft)
        session.add(row)
    set_committed_value(post, "event", row)
    return row


def event_payload(draft: EventDraft | None) -> dict[str, Any]:
    """A change as it waits for approval (JSON): the new fields, or the cancellation."""
    if draft is None:
        return {"cancel": True}
    return {"title": draft.title, "starts_at": draft.starts_at.isoformat() if draft.starts_at else None,
            "ends_at": draft.ends_at.isoformat() if draft.ends_at else None, "all_day": draft.all_day,
            "timezone": draft.timezone, "place_name": draft.place_name, "street_address": draft.street_address,
            "postal_code": draft.postal_code, "locality": draft.locality, "online_url": draft.online_url}


def draft_of(payload: dict[str, Any]) -> EventDraft | None:
    """The change a waiting payload describes; None for the cancellation."""
    if payload.get("cancel"):
        return None

    def moment(value) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return EventDraft(payload["title"], moment(payload["starts_at"]), moment(payload["ends_at"]),
                      bool(payload["all_day"]), payload["timezone"], payload["place_name"],
                      payload["street_address"], payload["postal_code"], payload["locality"], payload["online_url"])


async def apply_approved(session: AsyncSession, post: Post, payload: dict[str, Any]
                         ) -> tuple[EventReason, list[tuple[str, dict]]]:
    """An approved change takes effect on the event row (the approval sends the post's Update itself)."""
    row = await event_of(session, post)
    if row is None:
        return EventReason.NO_EVENT, []
    draft = draft_of(payload)
    if draft is None:
        row.status = EventStatus.CANCELLED
        return EventReason.OK, []
    problems = event_problems(draft)
    if problems:
        return EventReason.INVALID, problems
    _apply(row, draft)
    return EventReason.OK, []


async def change_event(session: AsyncSession, user: User, post: Post, draft: EventDraft | None,
                       now: datetime, *, needs_approval: bool = False) -> tuple[EventReason, list[tuple[str, dict]]]:
    """A new when and where (`draft`), or the cancellation (`draft` None); published events go out again.
    `needs_approval`: the account's published posts change only with a second editor (four-eyes): the change
    then waits as an edit of the post (`edits.propose_event`) until another editor approves it."""
    row = await event_of(session, post)
    if row is None:
        return EventReason.NO_EVENT, []
    if not may_use_actor(user, post.actor.name):
        return EventReason.NOT_ALLOWED, []
    if post.state == PostState.DELETED:
        return EventReason.GONE, []
    if draft is not None:
        problems = event_problems(draft)
        if problems:
            return EventReason.INVALID, problems
    if needs_approval and post.state == PostState.PUBLISHED:
        edit = await edits.propose_event(session, user, post, event_payload(draft), now)
        await record(session, Event(Action.POST_EDITED, user.role, user_ref(user), subject_ref=f"post:{post.id}",
                                    details={"actor": post.actor.name, "edit": edit.id, "awaiting_approval": True,
                                             "event": "cancelled" if draft is None else "changed"}))
        return EventReason.AWAITING_APPROVAL, []
    if draft is not None:
        _apply(row, draft)
    else:
        row.status = EventStatus.CANCELLED
    if post.state == PostState.PUBLISHED:
        post.edited_at = now  # Mobilizon and Mastodon take an Update only when `updated` moved on
        await delivery.enqueue_fanout(session, post, delivery.Verb.UPDATE)
    await record(session, Event(Action.POST_EDITED, user.role, user_ref(user), subject_ref=f"post:{post.id}",
                                details={"actor": post.actor.name, "event": "cancelled" if draft is None
                                         else "changed"}))
    return EventReason.OK, []
