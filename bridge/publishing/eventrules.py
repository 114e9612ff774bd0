"""What an event may be, in one place: a title, a start, an end not before it, a real time zone, and an
online link that is a web address. The web form and approval ask here through `drafts.check_draft`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_TITLE = 200


@dataclass(frozen=True)
class EventDraft:
    title: str
    starts_at: datetime | None  # UTC; None: the form could not read it
    ends_at: datetime | None
    all_day: bool = False
    timezone: str = "Europe/Berlin"
    place_name: str = ""
    street_address: str = ""
    postal_code: str = ""
    locality: str = ""
    online_url: str = ""


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(name)


def event_problems(event: EventDraft) -> list[tuple[str, dict]]:
    """Each rule the event breaks, as (PostReason value, facts)."""
    problems: list[tuple[str, dict]] = []
    if not event.title.strip():
        problems.append(("event_no_title", {}))
    elif len(event.title) > MAX_TITLE:
        problems.append(("event_title_too_long", {"limit": MAX_TITLE}))
    if event.starts_at is None:
        problems.append(("event_no_start", {}))
    elif event.ends_at is not None and event.ends_at < event.starts_at:
        problems.append(("event_ends_before_start", {}))
    if not valid_timezone(event.timezone):
        problems.append(("event_bad_timezone", {}))
    link = urlsplit(event.online_url.strip()) if event.online_url.strip() else None
    if link is not None and (link.scheme not in ("https", "http") or not link.hostname):
        problems.append(("event_bad_link", {}))
    return problems
