"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), built as a plain dict.

feedgen has no JSON Feed support. Keys are emitted in a fixed order and only when they carry a value,
because the spec says optional keys may be absent and some readers choke on nulls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from feeds import presentation as p
from feeds.model import FeedAuthor, FeedEntry, FeedMedia, FeedMeta, MediaKind

VERSION_URL = "https://jsonfeed.org/version/1.1"


def render_json_feed(meta: FeedMeta, entries: Sequence[FeedEntry]) -> bytes:
    document = feed_document(meta, entries)
    # ensure_ascii=False keeps umlauts readable; clean_text already removed lone surrogates.
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def feed_document(meta: FeedMeta, entries: Sequence[FeedEntry]) -> dict[str, Any]:
    x = p.clean_text
    doc: dict[str, Any] = {
        "version": VERSION_URL,
        "title": x(meta.title),
        "home_page_url": meta.home_page_url,
        "feed_url": meta.self_url,
        "language": meta.language,
        "authors": [_author(meta.author)],
    }
    if meta.subtitle:
        doc["description"] = x(meta.subtitle)
    if meta.logo_url or meta.icon_url:
        doc["icon"] = meta.logo_url or meta.icon_url
    if meta.icon_url:
        doc["favicon"] = meta.icon_url
    if meta.hub_url:
        doc["hubs"] = [{"type": "WebSub", "url": meta.hub_url}]
    doc["items"] = [_item(entry) for entry in entries]
    return doc


def _item(entry: FeedEntry) -> dict[str, Any]:
    x = p.clean_text
    item: dict[str, Any] = {"id": x(entry.guid), "url": entry.url}
    title = p.display_title(entry)
    if title:
        item["title"] = x(title)
    item["content_html"] = x(p.content_html(entry))
    summary = p.summary(entry)
    if summary:
        item["summary"] = x(summary)
    images = [m for m in entry.media if m.kind is MediaKind.IMAGE]
    if images:
        item["image"] = images[0].url
    item["date_published"] = _date(entry.published)
    if entry.edited:
        item["date_modified"] = _date(entry.last_changed)
    if entry.author:
        item["authors"] = [_author(entry.author)]
    if entry.tags:
        item["tags"] = [x(t) for t in entry.tags]
    if entry.language:
        item["language"] = entry.language
    if entry.media:
        item["attachments"] = [_attachment(m) for m in entry.media]
    return item


def _attachment(media: FeedMedia) -> dict[str, Any]:
    # JSON Feed has no alt-text field; "title" is the attachment's human-readable name, the closest fit.
    att: dict[str, Any] = {"url": media.url, "mime_type": media.mime_type}
    if media.alt_text:
        att["title"] = p.clean_text(media.alt_text)
    if media.length is not None:
        att["size_in_bytes"] = media.length
    return att


def _author(author: FeedAuthor) -> dict[str, str]:
    out = {"name": p.clean_text(author.name)}
    if author.url:
        out["url"] = author.url
    return out


def _date(value: datetime) -> str:
    # RFC 3339 in UTC with a Z, the form every JSON Feed reader parses.
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
