"""Import of an existing RSS/Atom (or JSON) feed, e.g. the press office's releases, into post candidates.

No HTTP here: the bridge fetches the bytes through its guarded client (conditional GET, size cap) and
hands them over. HTML in the items is NOT sanitised for publishing; the caller runs its own policy.
"""

from __future__ import annotations

import calendar
import enum
import hashlib
import importlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit


from feeds import jsonimport
from feeds.model import FeedKind
from feeds.items import GuidSource, ImportedEnclosure, ImportedItem
from feeds.posttext import PostText, TextFit, plain_text, to_post_text
from feeds.selection import Selection, SelectReason, select_new

__all__ = [
    "GuidSource", "ImportReason", "ImportResult", "ImportedEnclosure", "ImportedItem", "parse_feed",
    "PostText", "TextFit", "plain_text", "to_post_text", "Selection", "SelectReason", "select_new",
]

DEFAULT_MAX_ITEMS = 500  # a runaway feed must not turn one poll into thousands of candidates
_HTML_SNIFF = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
_BENIGN = ("CharacterEncodingOverride", "NonXMLContentType")


class ImportReason(enum.StrEnum):
    OK = "ok"
    EMPTY_BODY = "empty_body"
    NOT_A_FEED = "not_a_feed"
    MALFORMED = "malformed"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class ImportResult:
    reason: ImportReason
    description: str
    items: tuple[ImportedItem, ...] = ()
    feed_title: str | None = None
    feed_link: str | None = None
    kind: FeedKind | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.reason is ImportReason.OK

    @property
    def broken(self) -> bool:
        """Worth showing to the editor as a problem (an empty but valid feed is not)."""
        return self.reason not in {ImportReason.OK, ImportReason.EMPTY}


def parse_feed(
    body: bytes, content_type: str | None, base_url: str, *, max_items: int = DEFAULT_MAX_ITEMS
) -> ImportResult:
    """Parse fetched bytes into items, or a reason why not. Never raises on any input."""
    if not body or not body.strip():
        return ImportResult(ImportReason.EMPTY_BODY, "the response body is empty")
    if jsonimport.looks_like_json(body):
        return _from_json(body, base_url, max_items)
    try:
        # No content-location on purpose: feedparser would then resolve relative GUIDs against the
        # fetch URL, and a moved feed would re-post everything. Links are resolved below instead.
        # feedparser is imported at the first feed, not at start: a web process that never imports a feed
        # does not carry it.
        parsed = importlib.import_module("feedparser").parse(
            body, response_headers={"content-type": content_type or "application/xml"}, sanitize_html=True
        )
    except Exception as exc:  # noqa: BLE001 - third-party parser on untrusted bytes; becomes a reason
        return ImportResult(ImportReason.MALFORMED, f"the feed could not be parsed ({type(exc).__name__})")
    return _from_parsed(parsed, body, content_type, base_url, max_items)


def _from_parsed(  # noqa: ANN001 - feedparser's result dict
    parsed, body: bytes, content_type: str | None, base_url: str, max_items: int
) -> ImportResult:
    version = parsed.get("version") or ""
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    benign = problem is None or type(problem).__name__ in _BENIGN
    warnings = () if benign else (f"{type(problem).__name__}: {problem}",)
    if not version:
        return _not_a_feed(parsed, body, content_type, base_url, problem)
    kind = FeedKind.ATOM if version.startswith("atom") else FeedKind.RSS
    items = tuple(
        item for item in (_item(e, base_url) for e in parsed.get("entries", [])[:max_items]) if item is not None
    )
    feed = parsed.get("feed", {})
    title, link = plain_text(feed.get("title")) or None, _url(feed.get("link"), base_url)
    if not items:
        if warnings:
            text = f"the {kind} feed is broken: {warnings[0]}"
            return ImportResult(ImportReason.MALFORMED, text, (), title, link, kind, warnings)
        return ImportResult(ImportReason.EMPTY, f"the {kind} feed has no items", (), title, link, kind)
    text = f"{len(items)} items from the {kind} feed" + (" (parsed despite errors)" if warnings else "")
    return ImportResult(ImportReason.OK, text, items, title, link, kind, warnings)


def _not_a_feed(  # noqa: ANN001 - feedparser's result dict and exception
    parsed, body: bytes, content_type: str | None, base_url: str, problem
) -> ImportResult:
    declared_html = (content_type or "").lower().startswith(("text/html", "application/xhtml"))
    is_html = declared_html or bool(_HTML_SNIFF.match(body[:4096]))
    if is_html:
        found = [
            _url(link.get("href"), base_url)
            for link in parsed.get("feed", {}).get("links", [])
            if link.get("rel") == "alternate" and _is_feed_type(link.get("type"))
        ]
        hint = f"; the page links to a feed at {found[0]}" if found and found[0] else ""
        return ImportResult(ImportReason.NOT_A_FEED, f"the URL returned an HTML page, not a feed{hint}")
    if body.lstrip().startswith(b"<"):
        detail = f": {type(problem).__name__}: {problem}" if problem is not None else ""
        return ImportResult(ImportReason.MALFORMED, f"XML that is not a readable RSS or Atom feed{detail}")
    return ImportResult(ImportReason.NOT_A_FEED, "the response is neither RSS, Atom nor JSON Feed")


def _is_feed_type(value: object) -> bool:
    return isinstance(value, str) and any(t in value for t in ("rss", "atom", "feed+json", "application/json"))


def _item(entry, base_url: str) -> ImportedItem | None:  # noqa: ANN001
    title = _title(entry)
    link = _url(entry.get("link"), base_url)
    # dict.get bypasses feedparser's deprecated fallback that reports published as updated.
    updated = _date(dict.get(entry, "updated_parsed"))
    published = _date(dict.get(entry, "published_parsed")) or updated
    summary = _html(entry.get("summary"), base_url)
    contents = entry.get("content") or []
    content = _html(contents[0].get("value"), base_url) if contents else None
    if not (title or link or summary or content or entry.get("id")):
        return None  # an empty shell, e.g. an item cut off by a truncated download
    guid, source = _guid(entry.get("id"), link, title, published, summary or content)
    return ImportedItem(
        guid=guid, guid_source=source, title=title, link=link, published=published,
        updated=updated, summary_html=summary, content_html=content,
        enclosures=_enclosures(entry, base_url),
    )


def _title(entry) -> str | None:  # noqa: ANN001
    # A plain-text title may legitimately contain "<" (e.g. "Tom <Jerry>"); strip tags only from HTML.
    raw = entry.get("title")
    detail = entry.get("title_detail") or {}
    text = raw if detail.get("type") == "text/plain" and isinstance(raw, str) else plain_text(raw)
    return " ".join(text.split()) or None


def _guid(
    raw: str | None, link: str | None, title: str | None, published: datetime | None, text: str | None
) -> tuple[str, GuidSource]:
    if raw and raw.strip():
        return raw.strip(), GuidSource.GUID
    if link:
        return link, GuidSource.LINK
    return content_hash(title, published, text), GuidSource.HASH


def content_hash(title: str | None, published: datetime | None, text: str | None) -> str:
    """Last-resort GUID: title and date, or the text when both are missing. Never empty."""
    basis = f"{title or ''}\x1f{published.isoformat() if published else ''}"
    if not (title or published):
        basis += f"\x1f{text or ''}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()


def _enclosures(entry, base_url: str) -> tuple[ImportedEnclosure, ...]:  # noqa: ANN001
    found: dict[str, ImportedEnclosure] = {}
    candidates = [(e.get("href"), e.get("type"), e.get("length")) for e in entry.get("enclosures") or []]
    candidates += [(m.get("url"), m.get("type"), m.get("filesize")) for m in entry.get("media_content") or []]
    for href, mime, length in candidates:
        url = _url(href, base_url)
        if url and url not in found:
            found[url] = ImportedEnclosure(url, mime or None, _int(length))
    return tuple(found.values())


def _from_json(body: bytes, base_url: str, max_items: int) -> ImportResult:
    parsed = jsonimport.parse(body)
    if parsed.reason != ImportReason.OK.value:
        return ImportResult(ImportReason(parsed.reason), parsed.description)
    items = []
    for raw in parsed.items[:max_items]:
        link = _url(raw.get("url"), base_url)
        title = plain_text(raw.get("title")) or None
        published = raw.get("published")
        text = raw.get("content_html")
        guid, source = _guid(raw.get("id"), link, title, published, text)
        encl = tuple(
            ImportedEnclosure(url, mime, _int(size))
            for url, mime, size in ((_url(a[0], base_url), a[1], a[2]) for a in raw.get("attachments", ()))
            if url
        )
        summary = raw.get("summary_html")
        items.append(ImportedItem(guid, source, title, link, published, raw.get("updated"), summary, text, encl))
    if not items:
        return ImportResult(ImportReason.EMPTY, "the JSON feed has no items", (), parsed.title, kind=FeedKind.JSON)
    text = f"{len(items)} items from the JSON feed"
    return ImportResult(ImportReason.OK, text, tuple(items), parsed.title, kind=FeedKind.JSON)


def _url(value: object, base_url: str) -> str | None:
    """Absolute http(s) URL or None: a javascript: or data: link must never reach a post."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        url = urljoin(base_url, value.strip())
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in {"http", "https"} and parts.netloc else None


def _html(value: object, base_url: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return importlib.import_module("feedparser.urls").resolve_relative_uris(value, base_url, "utf-8", "text/html")
    except Exception:  # noqa: BLE001 - feedparser's HTML pass on untrusted markup; keep it unresolved
        return value


def _date(value: object) -> datetime | None:
    try:
        # feedparser gives UTC struct_time values; timegm reads them as UTC (mktime would not).
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc) if value else None  # type: ignore
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _int(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None
