"""An event in the shapes others read: the AS2 `Event` as Mobilizon and Gancio send it (`name`, `startTime`,
`endTime`, `location` as a `Place` with a `PostalAddress`, `ical:status`, `timezone`), a feed entry's lines,
and the account's calendar as iCalendar (RFC 5545) through the `icalendar` library."""

from __future__ import annotations

import importlib

from datetime import datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo


from activitypub.uris import Uris
from activitypub.vocab import iso
from bridge.store.events import PostEvent
from bridge.store.models import Post

PRODID = "-//Stadtbote//Veranstaltungen//DE"


def _zone(event: PostEvent) -> ZoneInfo:
    return ZoneInfo(event.timezone)


def address_line(event: PostEvent) -> str:
    town = " ".join(p for p in (event.postal_code, event.locality) if p)
    return ", ".join(p for p in (event.place_name, event.street_address, town) if p)


def event_fields(event: PostEvent, note: dict[str, Any]) -> dict[str, Any]:
    """What turns our Note into an Event; the Note's id, url, audience, content and images stay."""
    fields: dict[str, Any] = {
        "type": "Event", "name": event.title, "startTime": iso(event.starts_at), "timezone": event.timezone,
        "mediaType": "text/html", "ical:status": "CANCELLED" if event.cancelled else "CONFIRMED",
        "isOnline": bool(event.online_url) and not event.has_place, "joinMode": "external",
        "commentsEnabled": True, "anonymousParticipationEnabled": False,
    }
    if event.ends_at is not None:
        fields["endTime"] = iso(event.ends_at)
    if event.has_place:
        address = {"type": "PostalAddress", "streetAddress": event.street_address,
                   "postalCode": event.postal_code, "addressLocality": event.locality}
        fields["location"] = {"type": "Place", "name": event.place_name or address_line(event),
                              "address": {k: v for k, v in address.items() if v}}
    if event.online_url:  # Mobilizon's online address: a Link among the attachments
        fields["attachment"] = [*note.get("attachment", []),
                                {"type": "Link", "name": "Website", "mediaType": "text/html",
                                 "href": event.online_url}]
    return fields


def when_text(event: PostEvent) -> str:
    """"2026-12-24 18:00–20:00 (Europe/Berlin)", "2026-12-24" (all day): numbers, in any language."""
    zone = _zone(event)
    start = event.starts_at.astimezone(zone)
    end = event.ends_at.astimezone(zone) if event.ends_at else None
    if event.all_day:
        last = end.date() if end else start.date()
        return start.date().isoformat() + (f" – {last.isoformat()}" if last != start.date() else "")
    text = start.strftime("%Y-%m-%d %H:%M")
    if end is not None:
        text += "–" + (end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%Y-%m-%d %H:%M"))
    return f"{text} ({event.timezone})"


def event_html(event: PostEvent) -> str:
    """The event's lines ahead of a feed entry's text: title (struck through when cancelled), when, where."""
    title = f"<strong>{escape(event.title)}</strong>"
    lines = [f"<del>{title}</del>" if event.cancelled else title, escape(when_text(event))]
    if address_line(event):
        lines.append(escape(address_line(event)))
    if event.online_url:
        lines.append(f'<a href="{escape(event.online_url)}">{escape(event.online_url)}</a>')
    return "<p>" + "<br>".join(lines) + "</p>"


def event_to_api(event: PostEvent, calendar_url: str) -> dict[str, Any]:
    """The event in the API's vendor key `stadtbote.event`: the names of the extension's parameters, times
    in ISO 8601 UTC, and the account's calendar (`/@name.ics`)."""
    return {"title": event.title, "start": iso(event.starts_at), "end": iso(event.ends_at) if event.ends_at else None,
            "all_day": event.all_day, "timezone": event.timezone, "place": event.place_name,
            "address": event.street_address, "postal_code": event.postal_code, "locality": event.locality,
            "online_url": event.online_url or None, "cancelled": event.cancelled, "calendar": calendar_url}


def calendar(events: list[tuple[Post, PostEvent]], uris: Uris, name: str, title: str) -> bytes:
    """The account's events as one iCalendar file; timed events in UTC, all-day events as dates."""
    icalendar = _icalendar()
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    for post, event in events:
        cal.add_component(_vevent(post, event, uris, name))
    return cal.to_ical()


def _vevent(post: Post, event: PostEvent, uris: Uris, name: str):
    item = _icalendar().Event()
    item.add("uid", uris.note(name, str(post.id)))
    item.add("dtstamp", post.edited_at or post.published_at or post.created_at)
    item.add("summary", event.title)
    if event.all_day:
        zone = _zone(event)
        first = event.starts_at.astimezone(zone).date()
        last = event.ends_at.astimezone(zone).date() if event.ends_at else first
        item.add("dtstart", first)
        item.add("dtend", last + timedelta(days=1))  # DTEND of a date is exclusive (RFC 5545 3.6.1)
    else:
        item.add("dtstart", _utc(event.starts_at))
        if event.ends_at is not None:
            item.add("dtend", _utc(event.ends_at))
    if address_line(event):
        item.add("location", address_line(event))
    item.add("url", event.online_url or uris.permalink(name, str(post.id)))
    item.add("description", post.text)
    item.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    if post.edited_at:
        item.add("last-modified", post.edited_at)
    return item


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("UTC"))


def _icalendar():
    """The icalendar library (about 3 MB), loaded by the first calendar asked for, not by every start."""
    return importlib.import_module("icalendar")
