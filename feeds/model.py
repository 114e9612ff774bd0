"""Frozen DTOs the bridge fills from its posts table and hands to the renderers.

The renderers trust these values: HTML content must already be sanitised by the bridge (feeds never
sanitises editor HTML), and every datetime must carry a timezone so that feeds never guess.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class FeedKind(enum.StrEnum):
    """The three formats a feed is served in; the value is the usual file suffix."""

    RSS = "rss"
    ATOM = "atom"
    JSON = "json"

    @property
    def media_type(self) -> str:
        """The Content-Type to serve this kind with (UTF-8 is what the renderers emit)."""
        return _MEDIA_TYPES[self]

    @property
    def mime_type(self) -> str:
        """The bare type, for `type=` attributes of links (no parameters there)."""
        return _MEDIA_TYPES[self].split(";", 1)[0]


_MEDIA_TYPES = {
    FeedKind.RSS: "application/rss+xml; charset=utf-8",
    FeedKind.ATOM: "application/atom+xml; charset=utf-8",
    FeedKind.JSON: "application/feed+json; charset=utf-8",
}


def _require_aware(name: str, value: datetime | None) -> None:
    # A naive datetime would be rendered in the server's local zone by some code paths and in UTC by
    # others; refusing it here keeps dates and ETags consistent across processes.
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class FeedAuthor:
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class FeedLink:
    """Another representation of the same feed (e.g. the Atom version, linked from the RSS one)."""

    href: str
    media_type: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """Channel-level data. `self_url` is the URL of the document being rendered; the bridge builds one
    FeedMeta per format (dataclasses.replace) so that rel="self" is right in each."""

    self_url: str
    title: str
    home_page_url: str
    language: str
    author: FeedAuthor
    subtitle: str | None = None
    feed_id: str | None = None  # stable Atom id; falls back to self_url
    icon_url: str | None = None  # small square (favicon-like)
    logo_url: str | None = None  # larger image
    hub_url: str | None = None  # WebSub hub; advertised together with rel="self"
    alternates: tuple[FeedLink, ...] = ()
    updated: datetime | None = None  # only used when there are no entries
    generator: str = "Stadtbote"

    def __post_init__(self) -> None:
        _require_aware("FeedMeta.updated", self.updated)

    @property
    def id(self) -> str:
        return self.feed_id or self.self_url


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class FeedMedia:
    url: str
    mime_type: str
    length: int | None = None  # bytes; None when unknown (RSS then says 0, as its spec advises)
    width: int | None = None
    height: int | None = None
    alt_text: str | None = None
    poster_url: str | None = None  # a video's still frame
    captions_url: str | None = None  # a video's WebVTT captions
    captions_language: str | None = None

    @property
    def kind(self) -> MediaKind:
        major = self.mime_type.split("/", 1)[0].lower()
        return MediaKind(major) if major in {"image", "video", "audio"} else MediaKind.DOCUMENT


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One post. `guid` never changes for the life of the post, even when it is edited; `updated` is
    set only once the post has been edited after publication."""

    guid: str
    url: str
    content_html: str
    summary_text: str
    published: datetime
    title: str | None = None
    content_warning: str | None = None
    updated: datetime | None = None
    author: FeedAuthor | None = None
    tags: tuple[str, ...] = ()
    media: tuple[FeedMedia, ...] = ()
    language: str | None = None

    def __post_init__(self) -> None:
        if not self.guid:
            raise ValueError("FeedEntry.guid must not be empty")
        _require_aware("FeedEntry.published", self.published)
        _require_aware("FeedEntry.updated", self.updated)

    @property
    def last_changed(self) -> datetime:
        """The instant the entry last changed: its edit time, else its publication time."""
        return max(self.published, self.updated) if self.updated else self.published

    @property
    def edited(self) -> bool:
        return self.updated is not None and self.updated > self.published


def latest_change(meta: FeedMeta, entries: tuple[FeedEntry, ...] | list[FeedEntry]) -> datetime:
    """The feed's own `updated`: the newest entry change, else meta.updated, else the epoch.

    Never `now()`: the same inputs must render the same bytes, or ETags and caches would churn."""
    if entries:
        return max(e.last_changed for e in entries)
    return meta.updated or EPOCH


