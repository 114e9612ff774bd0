"""Platform calls over the guarded client, and the one place that decides what a failure means.

The distinction that prevents duplicate posts: a request that never left (connect failure, refused
address) is safe to repeat; one that left without a clear answer (timeout, 5xx, an unreadable 2xx) is
UNKNOWN — the post may exist.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from aiohttp.payload import BufferedReaderPayload, Payload

from activitypub.guard import Body, GuardedSession, RequestFailed, RequestReason
from bridge.platforms.connectors.base import Outcome, Reason, Result

MAX_ANSWER = 2_000_000

# A body, or what makes one per attempt: a streamed body is sent once, so a call that may be repeated (after a
# token refresh) passes a factory that opens the file again.
BodySource = Body | Callable[[], Body]


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
               json_body: Any = None, body: BodySource | None = None, content_type: str | None = None,
               timeout: float | None = None) -> Answer:
    """`content_type` for bytes and single files; a form brings its own (with the boundary)."""
    sent = {"Accept": "application/json", **(headers or {})}
    if body is not None and not isinstance(body, (bytes, aiohttp.FormData, Payload)):
        body = body()
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


def form(fields: Mapping[str, str], files: Mapping[str, tuple[str, str, bytes | str]]) -> aiohttp.FormData:
    """multipart/form-data by aiohttp. files: name -> (filename, type, the bytes or a path). A path is opened
    here and streamed from disk by aiohttp (in chunks, in an executor, with its Content-Length); the guarded
    client closes it after the request."""
    data = aiohttp.FormData(default_to_multipart=True)  # multipart even without files (X's INIT, FINALIZE)
    for name, value in fields.items():
        data.add_field(name, value)
    for name, (filename, mime, content) in files.items():
        data.add_field(name, content if isinstance(content, bytes) else open(content, "rb"), filename=filename,
                       content_type=mime)
    return data


def file_body(path: str, offset: int = 0) -> Payload:
    """The file from `offset` on as a raw body, streamed by aiohttp with its Content-Length (the rest's size);
    closed by the guarded client after the request."""
    f = open(path, "rb")
    f.seek(offset)
    # filename=None: no Content-Disposition naming our local file
    return BufferedReaderPayload(f, filename=None, content_type="application/octet-stream")


def file_size(path: str | None) -> int | None:
    """The size of a file to upload, or None when it cannot be read."""
    try:
        return os.path.getsize(path) if path else None
    except OSError:
        return None
