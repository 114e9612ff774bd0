"""Platform calls over the guarded client, and the one place that decides what a failure means.

The distinction that prevents duplicate posts: a request that never left (connect failure, refused
address) is safe to repeat; one that left without a clear answer (timeout, 5xx, an unreadable 2xx) is
UNKNOWN — the post may exist.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from activitypub.guard import GuardedSession, RequestFailed, RequestReason
from bridge.platforms.connectors.base import Outcome, Reason, Result

MAX_ANSWER = 2_000_000


@dataclass(frozen=True)
class Answer:
    status: int = 0  # 0: no response at all
    headers: Mapping[str, str] = field(default_factory=dict)
    data: Any = None  # the parsed JSON body, or None
    failure: RequestFailed | None = None
    malformed: bool = False  # a body came but was not the JSON promised

    @property
    def ok(self) -> bool:
        return self.failure is None and 200 <= self.status < 300 and not self.malformed


async def call(http: GuardedSession, method: str, url: str, *, headers: Mapping[str, str] | None = None,
               json_body: Any = None, body: bytes | None = None, content_type: str | None = None,
               timeout: float | None = None) -> Answer:
    sent = {"Accept": "application/json", **(headers or {})}
    if json_body is not None:
        body, content_type = json.dumps(json_body).encode(), "application/json"
    if content_type:
        sent["Content-Type"] = content_type
    longer = {"timeout": timeout} if timeout is not None else {}  # only uploads ask for more than the policy's
    result = await http.request(method, url, headers=sent, body=body, follow_redirects=False, max_body=MAX_ANSWER,
                                **longer)
    if isinstance(result, RequestFailed):
        return Answer(failure=result)
    if not result.body:
        return Answer(result.status, result.headers)
    try:
        return Answer(result.status, result.headers, json.loads(result.body))
    except (ValueError, UnicodeDecodeError):
        return Answer(result.status, result.headers, malformed=True)


def never_left(failure: RequestFailed) -> bool:
    if failure.reason in (RequestReason.REFUSED_ADDRESS, RequestReason.REFUSED_SCHEME):
        return True
    return failure.reason is RequestReason.CONNECTION_FAILED and failure.description.startswith("cannot connect")


def transport_result(answer: Answer, *, write: bool) -> Result | None:
    """The result for a failure every platform shares, or None when the platform must look closer."""
    if answer.failure is not None:
        if never_left(answer.failure):
            reason = Reason.REFUSED_ADDRESS if answer.failure.reason.startswith("refused") else Reason.CONNECTION_FAILED
            return Result(Outcome.UNAVAILABLE, reason, answer.failure.reason)
        reason = Reason.TIMEOUT if answer.failure.reason is RequestReason.TIMEOUT else Reason.CONNECTION_FAILED
        return Result(Outcome.UNKNOWN if write else Outcome.UNAVAILABLE, reason, answer.failure.reason)
    if answer.status >= 500:
        return Result(Outcome.UNKNOWN if write else Outcome.UNAVAILABLE, Reason.SERVER_ERROR, f"HTTP {answer.status}")
    if answer.malformed or (200 <= answer.status < 300 and not isinstance(answer.data, (dict, list, bool))):
        return Result(Outcome.UNKNOWN if write else Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE,
                      f"HTTP {answer.status}")
    return None


def retry_after(headers: Mapping[str, str], now: datetime, default: timedelta = timedelta(minutes=1)) -> datetime:
    """`Retry-After` as seconds or an HTTP date; a missing or silly value waits `default`."""
    value = (headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return now + timedelta(seconds=min(int(value), 86400))
    if value:
        try:
            when = parsedate_to_datetime(value)
            return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        except (TypeError, ValueError):
            pass
    return now + default


def epoch(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(float(value)), timezone.utc) if value else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def short(text: Any, limit: int = 200) -> str:
    """The platform's own error text, cut short: shown to editors, never a body or a token."""
    return str(text or "").replace("\n", " ")[:limit]


def multipart(fields: Mapping[str, str], files: Mapping[str, tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """multipart/form-data by hand: the guarded client sends bytes. files: name -> (filename, type, data)."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value.encode() + b"\r\n")
    for name, (filename, mime, data) in files.items():
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {mime}\r\n\r\n")
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
