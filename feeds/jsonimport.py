"""Reading JSON Feed 1.0/1.1 documents for import (feedparser 6 reads only XML feeds).

Returns plain values; `importer` turns them into ImportedItem so that both paths share the GUID,
URL and date rules.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

VERSION_PREFIX = "https://jsonfeed.org/version/"


@dataclass(frozen=True, slots=True)
class JsonFeed:
    reason: str  # an ImportReason value: "ok", "not_a_feed", "malformed"
    description: str
    title: str | None = None
    items: tuple[dict[str, Any], ...] = field(default=())


def looks_like_json(body: bytes) -> bool:
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return head in (b"{", b"[")


def parse(body: bytes) -> JsonFeed:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return JsonFeed("malformed", "the response looks like JSON but does not parse")
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(VERSION_PREFIX):
        return JsonFeed("not_a_feed", "the response is JSON but not a JSON Feed")
    raw_items = doc.get("items")
    if not isinstance(raw_items, list):
        return JsonFeed("malformed", "the JSON Feed has no items list")
    title = doc.get("title") if isinstance(doc.get("title"), str) else None
    return JsonFeed("ok", "JSON Feed", title, tuple(_item(i) for i in raw_items if isinstance(i, dict)))


def _item(raw: dict[str, Any]) -> dict[str, Any]:
    content = _str(raw.get("content_html"))
    text = _str(raw.get("content_text"))
    if content is None and text is not None:
        # Plain text becomes HTML here so that callers see one field type for every source.
        content = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    summary = _str(raw.get("summary"))
    attachments = [
        (_str(a.get("url")), _str(a.get("mime_type")), a.get("size_in_bytes"))
        for a in raw.get("attachments") or []
        if isinstance(a, dict)
    ]
    raw_id = raw.get("id")
    return {
        # JSON Feed 1.0 allowed numeric ids; they are still stable identifiers.
        "id": str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else None,
        "url": _str(raw.get("url")),
        "title": _str(raw.get("title")),
        "content_html": content,
        "summary_html": html.escape(summary) if summary else None,
        "published": _date(raw.get("date_published")),
        "updated": _date(raw.get("date_modified")),
        "attachments": attachments,
    }


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
