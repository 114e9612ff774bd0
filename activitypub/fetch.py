"""Fetching ActivityPub documents through the guard, with Mastodon's acceptance rules.

A document is accepted only as `application/activity+json` or `application/ld+json` with the
ActivityStreams profile, at most 1 MB, as a JSON object whose `id` is the URL it was fetched from.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .guard import GuardedSession, RequestFailed, RequestReason
from .jsonload import MAX_DEPTH, JsonRejected, JsonReason, load_json
from .origins import strip_fragment
from .signatures import Signer, sign_request

AS_PROFILE = "https://www.w3.org/ns/activitystreams"
ACCEPT = f'application/activity+json, application/ld+json; profile="{AS_PROFILE}"'


class FetchReason(enum.StrEnum):
    REFUSED_ADDRESS = "refused_address"
    REFUSED_SCHEME = "refused_scheme"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    CONNECTION_FAILED = "connection_failed"
    NOT_FOUND = "not_found"
    GONE = "gone"
    HTTP_ERROR = "http_error"
    WRONG_CONTENT_TYPE = "wrong_content_type"
    INVALID_JSON = "invalid_json"
    TOO_DEEP = "too_deep"
    ID_MISMATCH = "id_mismatch"


@dataclass(frozen=True)
class Fetched:
    url: str  # final URL after redirects
    document: dict[str, Any]


@dataclass(frozen=True)
class FetchFailed:
    reason: FetchReason
    description: str
    url: str
    status: int | None = None


FetchResult = Fetched | FetchFailed


def is_activitypub_content_type(value: str | None) -> bool:
    """`application/activity+json`, or `application/ld+json` with the AS profile (Mastodon's rule)."""
    if not value:
        return False
    media_type, *params = [part.strip() for part in value.split(";")]
    media_type = media_type.lower()
    if media_type == "application/activity+json":
        return True
    if media_type != "application/ld+json":
        return False
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() == "profile" and AS_PROFILE in raw.strip().strip('"').split():
            return True
    return False


async def fetch_document(
    session: GuardedSession,
    url: str,
    signer: Signer | None = None,
    *,
    check_id: bool = True,
    max_depth: int = MAX_DEPTH,
    now: datetime | None = None,
) -> FetchResult:
    """GET an ActivityPub document; signed with `signer` (the instance actor) when given."""
    target = strip_fragment(url)

    def sign(method: str, hop_url: str, body: bytes | None) -> dict[str, str]:
        return sign_request(signer, method, hop_url, now=now) if signer is not None else {}

    response = await session.request("GET", target, headers={"Accept": ACCEPT}, sign=sign)
    if isinstance(response, RequestFailed):
        return FetchFailed(_REQUEST_REASONS[response.reason], response.description, response.url)
    if response.status != 200:
        reason = {404: FetchReason.NOT_FOUND, 410: FetchReason.GONE}.get(response.status, FetchReason.HTTP_ERROR)
        return FetchFailed(reason, f"HTTP {response.status}", response.url, response.status)
    if not is_activitypub_content_type(response.headers.get("Content-Type")):
        return FetchFailed(FetchReason.WRONG_CONTENT_TYPE, "not an ActivityPub content type", response.url, 200)
    loaded = load_json(response.body, max_depth=max_depth, max_bytes=session.policy.max_body)
    if isinstance(loaded, JsonRejected):
        reason = FetchReason.TOO_DEEP if loaded.reason is JsonReason.TOO_DEEP else FetchReason.INVALID_JSON
        return FetchFailed(reason, loaded.description, response.url, 200)
    document = loaded.value
    if check_id and document.get("id") not in (target, response.url):
        return FetchFailed(FetchReason.ID_MISMATCH, "document id is not the fetched URL", response.url, 200)
    return Fetched(response.url, document)


_REQUEST_REASONS = {
    RequestReason.REFUSED_ADDRESS: FetchReason.REFUSED_ADDRESS,
    RequestReason.REFUSED_SCHEME: FetchReason.REFUSED_SCHEME,
    RequestReason.TOO_MANY_REDIRECTS: FetchReason.TOO_MANY_REDIRECTS,
    RequestReason.TOO_LARGE: FetchReason.TOO_LARGE,
    RequestReason.TIMEOUT: FetchReason.TIMEOUT,
    RequestReason.CONNECTION_FAILED: FetchReason.CONNECTION_FAILED,
}
