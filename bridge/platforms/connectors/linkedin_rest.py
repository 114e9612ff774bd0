"""LinkedIn's versioned REST API (api.linkedin.com/rest): every call carries `LinkedIn-Version: YYYYMM`
(there is no default; versions sunset after about a year, so it is configurable) and
`X-Restli-Protocol-Version: 2.0.0`. Commentary uses the "little" text format, whose reserved characters
must be backslash-escaped or LinkedIn silently cuts the text at the first one
(learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format).

Access tokens live 60 days. Only apps approved for refresh tokens get one (365 days, not extended by
refreshing): with `refresh_token`, `client_id` and `client_secret` configured the token is refreshed a
week before it ends; otherwise the admin sees the expiry (`token_expires_at`) and reconnects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from bridge.platforms.connectors.base import AccountState, Outcome, Reason, Result
from bridge.platforms.connectors.http import Answer, call, retry_after, short, transport_result
from bridge.platforms.connectors.tokens import seeded, show_expiry, store_expiry, when
from bridge.convert.text import parse_text

DEFAULT_VERSION = "202609"
RESERVED = set("\\|{}@[]()<>#*_~")
REFRESH_BEFORE = timedelta(days=7)
QUOTA_WAIT = timedelta(hours=1)  # daily quotas reset at midnight UTC; a burst limit clears sooner


def escape_little(text: str) -> str:
    """Every reserved character escaped, except the # that starts a hashtag (LinkedIn links those)."""
    out = []
    for token in parse_text(text).tokens:
        body = token.text
        if token.kind == "hashtag":
            out.append("#" + _escape(body[1:]))
        else:
            out.append(_escape(body))
    return "".join(out)


def _escape(text: str) -> str:
    return "".join(f"\\{c}" if c in RESERVED else c for c in text)


def unescape_little(text: str) -> str:
    out, escaped = [], False
    for c in text:
        if escaped or c != "\\":
            out.append(c)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def classify(answer: Answer, now: datetime, *, write: bool) -> Result | None:
    if answer.status == 429:
        return Result(Outcome.RATE_LIMITED, Reason.RATE_LIMITED, "HTTP 429",
                      retry_at=retry_after(answer.headers, now, QUOTA_WAIT))
    if answer.failure is not None or answer.status >= 500 or answer.malformed:  # a 201 has no body: fine
        return transport_result(answer, write=write)
    if 200 <= answer.status < 300:
        return None
    data = answer.data if isinstance(answer.data, dict) else {}
    message = short(data.get("message")) or f"HTTP {answer.status}"
    if answer.status in (401, 403):
        return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, message)
    if answer.status in (404, 410):
        return Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, message)
    return Result(Outcome.REJECTED, Reason.REJECTED, message)


class Rest:
    def __init__(self, http, base: str, token: str, version: str) -> None:
        self.http, self.base, self.token, self.version = http, base.rstrip("/"), token, version

    def headers(self, **extra) -> dict:
        return {"Authorization": f"Bearer {self.token}", "LinkedIn-Version": self.version,
                "X-Restli-Protocol-Version": "2.0.0", **extra}

    def url(self, path: str, params: dict | None = None, raw_query: str = "") -> str:
        query = urlencode(params or {}) or raw_query
        return f"{self.base}/rest/{path}" + (f"?{query}" if query else "")

    async def request(self, method: str, path: str, *, json_body: Any = None, params: dict | None = None,
                      raw_query: str = "", **headers) -> Answer:
        return await call(self.http, method, self.url(path, params, raw_query), json_body=json_body,
                          headers=self.headers(**headers))


def urn_path(urn: str) -> str:
    """A URN as one path segment: LinkedIn wants it URL-encoded, colons and all."""
    return quote(urn, safe="")


async def access_token(http, account: AccountState, credentials, oauth_base: str, clock) -> str:
    """The configured token, or the one refreshed from it while the refresh token lasts."""
    session = seeded(account, credentials("access_token", ""), refresh_token=credentials("refresh_token"))
    now = clock()
    expires = when(session.get("expires_at")) or when(credentials("token_expires_at"))
    client_id, secret = credentials("client_id"), credentials("client_secret")
    if session.get("refresh_token") and client_id and secret and expires and expires - now < REFRESH_BEFORE \
            and session.get("refresh_tried_at", "")[:10] != now.date().isoformat():
        session["refresh_tried_at"] = now.isoformat()
        form = urlencode({"grant_type": "refresh_token", "refresh_token": session["refresh_token"],
                          "client_id": client_id, "client_secret": secret})
        answer = await call(http, "POST", f"{oauth_base.rstrip('/')}/oauth/v2/accessToken", body=form.encode(),
                            content_type="application/x-www-form-urlencoded")
        data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
        if data.get("access_token"):
            session.update(access_token=str(data["access_token"]),
                           refresh_token=str(data.get("refresh_token") or session["refresh_token"]))
            store_expiry(account, session, now, data.get("expires_in"))
    show_expiry(account, session, credentials("token_expires_at"))
    return str(session["access_token"])
