"""WebSub publisher side (https://www.w3.org/TR/websub/): the form the bridge POSTs to the hub.

No HTTP here; the bridge sends it through its guarded client after a post is published, edited or
deleted. The publish ping is not standardised by the W3C spec; `hub.mode=publish` with `hub.url` is
what common hubs (Google's reference hub, Superfeedr, WebSubHub) accept, one topic per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class HubPing:
    hub_url: str
    form: dict[str, str]  # application/x-www-form-urlencoded body


def hub_ping_forms(hub_url: str, topic_urls: Iterable[str]) -> tuple[HubPing, ...]:
    """One ping per distinct feed URL (each format of each feed is its own WebSub topic)."""
    if urlsplit(hub_url).scheme not in {"http", "https"}:
        raise ValueError("hub_url must be an http(s) URL")
    topics = dict.fromkeys(t for t in topic_urls if t)
    return tuple(HubPing(hub_url, {"hub.mode": "publish", "hub.url": topic}) for topic in topics)


def hub_ping_form(hub_url: str, topic_url: str) -> dict[str, str]:
    """The form for a single topic."""
    return hub_ping_forms(hub_url, [topic_url])[0].form
