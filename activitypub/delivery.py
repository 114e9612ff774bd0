"""One signed POST of one activity to one inbox. The queue (retries, ordering, breakers) is the bridge's.

Outcomes follow Mastodon's delivery worker: 2xx delivered; 401, 408, 429 and 5xx (except 501) are worth
retrying; 410 means the inbox is gone; any other 4xx, 501 and redirects are final.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from .guard import GuardedSession, RequestFailed, RequestReason
from .signatures import Signer, load_private_key, sign_request

CONTENT_TYPE = "application/activity+json"
_RETRYABLE_4XX = (401, 408, 429)


class DeliveryOutcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GONE = "gone"
    REJECTED = "rejected"
    REFUSED = "refused"


@dataclass(frozen=True)
class DeliveryResult:
    outcome: DeliveryOutcome
    description: str
    status: int | None = None
    retry_after: float | None = None  # seconds, when the inbox said so (Retry-After)


async def deliver(
    session: GuardedSession,
    inbox_url: str,
    document: dict[str, Any] | bytes,
    key_id: str,
    private_key_pem: str | rsa.RSAPrivateKey,
    *,
    now: datetime | None = None,
    signed: Mapping[str, str] | None = None,
) -> DeliveryResult:
    """Sign (draft-cavage, as Mastodon) and POST `document` to `inbox_url`.

    `signed`: this request's headers from `sign_request`/`sign_posts` for this URL and body, made shortly
    before (many deliveries are signed together, in signing processes); without it, it is signed here."""
    body = document if isinstance(document, bytes) else json.dumps(document, separators=(",", ":")).encode()
    sign = None
    if signed is None:
        key = load_private_key(private_key_pem) if isinstance(private_key_pem, str) else private_key_pem
        signer = Signer(key_id, key)

        def sign(method: str, url: str, payload: bytes | None) -> dict[str, str]:
            return sign_request(signer, method, url, payload, content_type=CONTENT_TYPE, now=now)

    # Redirects are not followed (a delivery is never re-sent elsewhere), so presigned headers suffice.
    response = await session.request(
        "POST", inbox_url, headers={"Accept": CONTENT_TYPE, **(signed or {})}, body=body, sign=sign,
        follow_redirects=False, max_body=0,  # an inbox's answer body is of no use
    )
    if isinstance(response, RequestFailed):
        return _from_failure(response)
    return classify_status(response.status, response.headers.get("Retry-After"), now=now)


def classify_status(status: int, retry_after: str | None = None, *, now: datetime | None = None) -> DeliveryResult:
    if 200 <= status < 300:
        return DeliveryResult(DeliveryOutcome.DELIVERED, f"HTTP {status}", status)
    if status == 410:
        return DeliveryResult(DeliveryOutcome.GONE, "inbox is gone (410)", status)
    if status in _RETRYABLE_4XX or (status >= 500 and status != 501):
        return DeliveryResult(DeliveryOutcome.RETRY, f"HTTP {status}", status, parse_retry_after(retry_after, now))
    return DeliveryResult(DeliveryOutcome.REJECTED, f"HTTP {status} is final", status)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - (now or datetime.now(timezone.utc))).total_seconds())


def _from_failure(failure: RequestFailed) -> DeliveryResult:
    if failure.reason in (RequestReason.REFUSED_ADDRESS, RequestReason.REFUSED_SCHEME):
        return DeliveryResult(DeliveryOutcome.REFUSED, failure.description)
    return DeliveryResult(DeliveryOutcome.RETRY, f"{failure.reason}: {failure.description}")
