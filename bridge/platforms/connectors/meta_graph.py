"""One thin client for Meta's Graph APIs — Facebook Pages, Instagram and Threads share the host layout
(`api_base` = host plus pinned version, e.g. https://graph.facebook.com/v25.0), the error shape
`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}` and the usage headers.

Error codes (developers.facebook.com/docs/graph-api/overview/rate-limiting, …/guides/error-handling):
4, 17, 32, 613 and the Pages business-use-case codes 80001–80014 are throttling; 190 is an invalid or
expired token, 102 a dead session, 10 and 200–299 missing permissions — all three need the admin
(reconnect), never a retry storm. The token travels in the Authorization header, never in a logged URL.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit

from activitypub.guard import GuardedSession
from bridge.platforms.connectors.base import AccountState, Outcome, Reason, Result
from bridge.platforms.connectors.http import Answer, call, form, retry_after, short, transport_result
from bridge.platforms.connectors.tokens import due, seeded, show_expiry, store_expiry

RATE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
AUTH_CODES = frozenset({190, 102, 10, *range(200, 300)})
NOT_READY = 9007  # "media is not ready for publishing": nothing was published, try again shortly
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-Page-Usage", "X-App-Usage")
DEFAULT_WAIT = timedelta(minutes=15)  # app-level usage is a rolling hour; a quarter of it is a fair wait
REFRESH_EVERY = timedelta(days=1)  # Meta refreshes only tokens at least 24 hours old


def graph_error(answer: Answer) -> dict:
    data = answer.data if isinstance(answer.data, dict) else {}
    return data.get("error") if isinstance(data.get("error"), dict) else {}


def usage_wait(headers: Mapping[str, str], now: datetime) -> datetime:
    """When the usage headers say access returns: `estimated_time_to_regain_access` (minutes) of the
    business-use-case header, else the default wait."""
    minutes = 0
    for name in USAGE_HEADERS:
        try:
            usage = json.loads(headers.get(name) or "null")
        except ValueError:
            continue
        entries = [e for v in usage.values() if isinstance(v, list) for e in v] if isinstance(usage, dict) else []
        for entry in entries:
            value = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                minutes = max(minutes, int(value))
    if minutes:
        return now + timedelta(minutes=min(minutes, 24 * 60))
    return retry_after(headers, now, DEFAULT_WAIT)


def classify(answer: Answer, now: datetime, *, write: bool) -> Result | None:
    """None for a success; else what the failure means, for every Graph call alike."""
    error = graph_error(answer)
    code = error.get("code")
    message = short(error.get("message")) or f"HTTP {answer.status}"
    if answer.status == 429 or code in RATE_CODES:
        return Result(Outcome.RATE_LIMITED, Reason.RATE_LIMITED, f"code {code}: {message}" if code else message,
                      retry_at=usage_wait(answer.headers, now))
    if code in AUTH_CODES or answer.status == 401:
        return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, f"code {code}: {message}")
    if code == NOT_READY:
        return Result(Outcome.UNAVAILABLE, Reason.SERVER_ERROR, message, retry_at=now + timedelta(seconds=30))
    common = transport_result(answer, write=write)
    if common is not None:
        return common
    if 200 <= answer.status < 300 and not error:
        return None
    if answer.status == 404 or (code == 100 and error.get("error_subcode") == 33) or code == 803:
        return Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, message)
    return Result(Outcome.REJECTED, Reason.REJECTED, f"code {code}: {message}" if code else message)


class Graph:
    """Graph calls for one account with its current token."""

    def __init__(self, http: GuardedSession, base: str, token: str, clock) -> None:
        self.http, self.base, self.token, self.clock = http, base.rstrip("/"), token, clock

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        query = urlencode({k: v for k, v in (params or {}).items() if v is not None})
        return f"{self.base}/{path.lstrip('/')}" + (f"?{query}" if query else "")

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **params) -> Answer:
        return await call(self.http, "GET", self.url(path, params), headers=self._headers())

    async def post(self, path: str, fields: Mapping[str, Any]) -> Answer:
        form = urlencode({k: v for k, v in fields.items() if v is not None})
        return await call(self.http, "POST", self.url(path), headers=self._headers(), body=form.encode(),
                          content_type="application/x-www-form-urlencoded")

    async def post_file(self, path: str, fields: Mapping[str, str], name: str, file: tuple[str, str, bytes]) -> Answer:
        return await call(self.http, "POST", self.url(path), headers=self._headers(), body=form(fields, {name: file}))

    async def delete(self, path: str) -> Answer:
        return await call(self.http, "DELETE", self.url(path), headers=self._headers())


def origin(api_base: str) -> str:
    parts = urlsplit(api_base)
    return f"{parts.scheme}://{parts.netloc}"


async def current_token(http: GuardedSession, account: AccountState, configured: str, clock, *,
                        refresh_url: str | None, grant: str | None, configured_expiry=None) -> str:
    """The token to use, refreshed about once a day where the platform allows it (Instagram Login:
    `ig_refresh_token`, Threads: `th_refresh_token`, both 60 days). A failed refresh keeps the old token:
    whether it still works is for the real call to tell, and the admin sees the expiry coming."""
    session = seeded(account, configured)
    now = clock()
    if refresh_url and grant and due(session, "refreshed_at", now, REFRESH_EVERY) \
            and due(session, "refresh_tried_at", now, REFRESH_EVERY):
        session["refresh_tried_at"] = now.isoformat()
        query = urlencode({"grant_type": grant, "access_token": session["access_token"]})
        answer = await call(http, "GET", f"{refresh_url}?{query}")
        data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
        if data.get("access_token"):
            session.update(access_token=str(data["access_token"]), refreshed_at=now.isoformat())
            store_expiry(account, session, now, data.get("expires_in"))
    show_expiry(account, session, configured_expiry)
    return str(session["access_token"])
