"""Conditional GET for feeds (RFC 9110 §8.8, §13): validators, evaluation, cache headers.

The ETag is a digest of the inputs that define the document, not of its bytes, so a 304 can be
answered from one small query (ids and change times of the newest entries) without rendering.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime

from feeds.model import FeedEntry, FeedKind, FeedMeta

DEFAULT_MAX_AGE = 60  # seconds: short, so edits and deletions reach readers quickly

# One entity-tag: optional W/ then a quoted opaque tag (which may contain commas), or, leniently,
# a bare token as some clients send it.
_ENTITY_TAG = re.compile(r'\s*(?:(W/)?"([^"]*)"|([^\s,"]+))\s*(?:,|$)')


class Outcome(enum.StrEnum):
    NOT_MODIFIED = "not_modified"
    RENDER = "render"


class ConditionalReason(enum.StrEnum):
    ETAG_MATCHED = "etag_matched"
    ETAG_DIFFERS = "etag_differs"
    NOT_MODIFIED_SINCE = "not_modified_since"
    MODIFIED_SINCE = "modified_since"
    INVALID_DATE = "invalid_date"
    NO_CONDITIONS = "no_conditions"
    NO_VALIDATOR = "no_validator"
    UNSAFE_METHOD = "unsafe_method"


_DESCRIPTIONS = {
    ConditionalReason.ETAG_MATCHED: "If-None-Match matches the current ETag",
    ConditionalReason.ETAG_DIFFERS: "If-None-Match does not match the current ETag",
    ConditionalReason.NOT_MODIFIED_SINCE: "not modified since the If-Modified-Since date",
    ConditionalReason.MODIFIED_SINCE: "modified after the If-Modified-Since date",
    ConditionalReason.INVALID_DATE: "If-Modified-Since is not a single valid HTTP-date; ignored",
    ConditionalReason.NO_CONDITIONS: "no conditional request header",
    ConditionalReason.NO_VALIDATOR: "the request is conditional but the resource has no matching validator",
    ConditionalReason.UNSAFE_METHOD: "304 applies to GET and HEAD only",
}


@dataclass(frozen=True, slots=True)
class Conditional:
    outcome: Outcome
    reason: ConditionalReason
    description: str

    @property
    def not_modified(self) -> bool:
        return self.outcome is Outcome.NOT_MODIFIED


def _result(outcome: Outcome, reason: ConditionalReason) -> Conditional:
    return Conditional(outcome, reason, _DESCRIPTIONS[reason])


def etag_for(
    kind: FeedKind | str,
    entry_versions: Iterable[tuple[str, datetime]],
    *,
    meta: FeedMeta | None = None,
    salt: str = "",
) -> str:
    """Strong ETag from what defines the document: its kind, the (guid, last change) of every entry
    in order (so edits, deletions and reordering all change it), the channel metadata, and a salt
    the caller bumps when the renderer itself changes (e.g. the application version)."""
    digest = hashlib.sha256()
    for part in (str(kind), salt, _meta_fingerprint(meta)):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    count = 0
    for guid, changed in entry_versions:
        digest.update(f"{guid}\x1f{_utc(changed).isoformat()}\x00".encode("utf-8", "surrogatepass"))
        count += 1
    digest.update(str(count).encode())
    return f'"{digest.hexdigest()[:40]}"'


def etag_for_entries(kind: FeedKind | str, meta: FeedMeta, entries: Iterable[FeedEntry], *, salt: str = "") -> str:
    return etag_for(kind, ((e.guid, e.last_changed) for e in entries), meta=meta, salt=salt)


def _meta_fingerprint(meta: FeedMeta | None) -> str:
    if meta is None:
        return ""
    return json.dumps(asdict(meta), sort_keys=True, default=str, ensure_ascii=False)


def last_modified_header(value: datetime) -> str:
    """IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), truncated to whole seconds as HTTP dates are."""
    return format_datetime(_utc(value).replace(microsecond=0), usegmt=True)


def evaluate(
    request_headers: Mapping[str, str],
    etag: str | None,
    last_modified: datetime | None,
    *,
    method: str = "GET",
) -> Conditional:
    """Decide 304 vs render. If-None-Match, when present, decides alone (weak comparison, `*` matches
    any current representation); only without it is If-Modified-Since considered."""
    if method.upper() not in {"GET", "HEAD"}:
        return _result(Outcome.RENDER, ConditionalReason.UNSAFE_METHOD)
    if_none_match = _header(request_headers, "If-None-Match")
    if if_none_match is not None:
        if etag is not None and _matches_any(if_none_match, etag):
            return _result(Outcome.NOT_MODIFIED, ConditionalReason.ETAG_MATCHED)
        return _result(Outcome.RENDER, ConditionalReason.ETAG_DIFFERS)
    if_modified_since = _header(request_headers, "If-Modified-Since")
    if if_modified_since is None:
        return _result(Outcome.RENDER, ConditionalReason.NO_CONDITIONS)
    if last_modified is None:
        return _result(Outcome.RENDER, ConditionalReason.NO_VALIDATOR)
    since = _parse_http_date(if_modified_since)
    if since is None:
        return _result(Outcome.RENDER, ConditionalReason.INVALID_DATE)
    if _utc(last_modified).replace(microsecond=0) <= since:
        return _result(Outcome.NOT_MODIFIED, ConditionalReason.NOT_MODIFIED_SINCE)
    return _result(Outcome.RENDER, ConditionalReason.MODIFIED_SINCE)


def cache_headers(
    etag: str | None,
    last_modified: datetime | None,
    *,
    max_age: int = DEFAULT_MAX_AGE,
    vary: Iterable[str] = (),
) -> dict[str, str]:
    """Headers for both the 200 and the 304 answer (RFC 9110 §15.4.5 wants them on the 304 too).

    `public`: feeds are the same for every reader and carry nothing personal. Pass `vary=("Accept",)`
    only when the URL negotiates between formats, and `Accept-Encoding` when a compressing layer
    serves the same strong ETag (it should then make the tag differ per encoding)."""
    headers = {"Cache-Control": f"public, max-age={max_age}"}
    if etag is not None:
        headers["ETag"] = etag
    if last_modified is not None:
        headers["Last-Modified"] = last_modified_header(last_modified)
    vary_values = list(dict.fromkeys(v for v in vary if v))
    if vary_values:
        headers["Vary"] = ", ".join(vary_values)
    return headers


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that also joins repeated fields (aiohttp's CIMultiDict has getall)."""
    getall = getattr(headers, "getall", None)
    if getall is not None:
        values = getall(name, [])
        return ", ".join(values) if values else None
    wanted = name.lower()
    values = [v for k, v in headers.items() if k.lower() == wanted]
    return ", ".join(values) if values else None


def _matches_any(field: str, etag: str) -> bool:
    if field.strip() == "*":
        return True
    current = _opaque(etag)
    return any(tag == current for tag in _parse_entity_tags(field))


def _parse_entity_tags(field: str) -> list[str]:
    tags, pos = [], 0
    while pos < len(field):
        match = _ENTITY_TAG.match(field, pos)
        if match is None or match.end() == pos:
            # Unparsable remainder: skip to the next comma rather than reject the whole list.
            comma = field.find(",", pos)
            if comma < 0:
                break
            pos = comma + 1
            continue
        tags.append(match.group(2) if match.group(2) is not None else match.group(3))
        pos = match.end()
    return tags


def _opaque(etag: str) -> str:
    """The opaque-tag of our own ETag, without W/ and quotes, for weak comparison."""
    tag = etag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else tag


def _parse_http_date(value: str) -> datetime | None:
    # More than one member (a comma outside the date's own "Sun," prefix) makes the field invalid.
    if value.count(",") > 1:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(timezone.utc)
