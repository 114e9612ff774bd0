"""Events of our posts: announced with the post, changed or cancelled later on their own form. Every change
goes to followers as an `Update` of the Event (a cancellation with `ical:status` CANCELLED, as Mobilizon
sends it); deleting the post sends the `Delete`, as for any post."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bridge.auth.users import may_use_actor, user_ref
from bridge.delivery import jobs as delivery
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
    NEEDS_APPROVAL = "event_needs_approval"

    @property
    def description(self) -> str:
        return EVENT_TEXT[self]


EVENT_TEXT = {
    EventReason.OK: "done",
    EventReason.NO_EVENT: "the post announces no event",
    EventReason.NOT_ALLOWED: "you may not change events of this account",
    EventReason.INVALID: "the event breaks a rule",
    EventReason.GONE: "the post was deleted",
    EventReason.NEEDS_APPROVAL: "changes of a published post of this account need a second editor; events cannot "
                                "be changed that way yet",
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


async def change_event(session: AsyncSession, user: User, post: Post, draft: EventDraft | None,
                       now: datetime, *, needs_approval: bool = False) -> tuple[EventReason, list[tuple[str, dict]]]:
    """A new when and where (`draft`), or the cancellation (`draft` None); published events go out again.
    `needs_approval`: the account's published posts change only with a second editor (four-eyes), which
    event changes do not have yet, so they are refused rather than published by one person."""
    row = await event_of(session, post)
    if row is None:
        return EventReason.NO_EVENT, []
    if not may_use_actor(user, post.actor.name):
        return EventReason.NOT_ALLOWED, []
    if needs_approval:
        return EventReason.NEEDS_APPROVAL, []
    if post.state == PostState.DELETED:
        return EventReason.GONE, []
    if draft is not None:
        problems = event_problems(draft)
        if problems:
            return EventReason.INVALID, problems
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
