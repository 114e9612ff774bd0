"""X API v2 calls with an OAuth 2.0 user token (Authorization Code + PKCE, scopes
`tweet.read tweet.write users.read media.write offline.access`). The access token lives 2 hours; the
refresh token (`POST /2/oauth2/token`, grant_type=refresh_token) is single-use — X hands back a new one
each time, kept only in the sealed session. A refused refresh means the admin must reconnect.

Errors: v2 problem details `{"title","detail","type","status"}` or `{"errors":[{"message","code"}]}`;
rate limits answer 429 with `x-rate-limit-reset` (epoch seconds) — docs.x.com/fundamentals/rate-limits.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from urllib.parse import urlencode

from bridge.platforms.connectors.base import AccountState, Outcome, Reason, Result
from bridge.platforms.connectors.http import Answer, call, epoch, retry_after, short, transport_result
from bridge.platforms.connectors.tokens import fingerprint, when

EARLY = timedelta(minutes=5)  # refresh a little before the 2 hours are over


def error_text(answer: Answer) -> str:
    data = answer.data if isinstance(answer.data, dict) else {}
    errors = data.get("errors") if isinstance(data.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    return short(data.get("detail") or data.get("title") or first.get("message") or first.get("detail")) \
        or f"HTTP {answer.status}"


def classify(answer: Answer, now: datetime, *, write: bool) -> Result | None:
    if answer.status == 429:
        reset = epoch(answer.headers.get("x-rate-limit-reset"))
        return Result(Outcome.RATE_LIMITED, Reason.RATE_LIMITED, "HTTP 429",
                      retry_at=reset if reset and reset > now else retry_after(answer.headers, now))
    common = transport_result(answer, write=write)
    if common is not None:
        return common
    if 200 <= answer.status < 300:
        data = answer.data if isinstance(answer.data, dict) else {}
        return None if "data" in data or not data.get("errors") else \
            Result(Outcome.REJECTED, Reason.REJECTED, error_text(answer))
    if answer.status == 401:
        return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, error_text(answer))
    if answer.status == 404:
        return Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, error_text(answer))
    return Result(Outcome.REJECTED, Reason.REJECTED, error_text(answer))


class XAuth:
    """The current access token; refreshed when it is (nearly) expired or X refused it."""

    def __init__(self, http, base: str, account: AccountState, credentials, clock) -> None:
        self.http, self.base, self.account, self.credentials, self.clock = http, base.rstrip("/"), account, \
            credentials, clock

    def session(self) -> dict:
        configured = f"{self.credentials('access_token', '')}|{self.credentials('refresh_token', '')}"
        session = self.account.session if isinstance(self.account.session, dict) else {}
        if session.get("seed") != fingerprint(configured):  # the admin reconnected: start from the config
            session = {"seed": fingerprint(configured), "access_token": self.credentials("access_token", ""),
                       "refresh_token": self.credentials("refresh_token")}
            self.account.session = session
        return session

    async def token(self) -> str | Result:
        session = self.session()
        expires = when(session.get("expires_at"))
        if session.get("access_token") and (expires is None or expires - self.clock() > EARLY):
            return str(session["access_token"])
        return await self.refresh()

    async def refresh(self) -> str | Result:
        session = self.session()
        client_id, secret = self.credentials("client_id"), self.credentials("client_secret")
        if not session.get("refresh_token") or not client_id:
            return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, "the access token expired; no refresh token")
        headers = {}
        if secret:  # a confidential client authenticates with HTTP Basic
            headers["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        form = urlencode({"grant_type": "refresh_token", "refresh_token": session["refresh_token"],
                          "client_id": client_id})
        answer = await call(self.http, "POST", f"{self.base}/2/oauth2/token", headers=headers, body=form.encode(),
                            content_type="application/x-www-form-urlencoded")
        data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
        if not data.get("access_token"):
            failure = classify(answer, self.clock(), write=False)
            if failure is None or answer.status in (400, 401):  # invalid_grant: the refresh token is spent
                return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, "X refused the refresh token")
            return failure
        now = self.clock()
        session.update(access_token=str(data["access_token"]),
                       refresh_token=str(data.get("refresh_token") or session["refresh_token"]),
                       expires_at=(now + timedelta(seconds=int(data.get("expires_in") or 7200))).isoformat())
        return str(data["access_token"])

    async def request(self, method: str, path: str, **kwargs) -> Answer | Result:
        """One call; a 401 with a token we believed fresh is answered by one refresh and one repeat
        (a 401 means the request was not carried out, so repeating it cannot post twice)."""
        for attempt in (1, 2):
            token = await (self.token() if attempt == 1 else self.refresh())
            if isinstance(token, Result):
                return token
            headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
            answer = await call(self.http, method, f"{self.base}{path}", headers=headers, **kwargs)
            if answer.status != 401 or attempt == 2 or not self.session().get("refresh_token"):
                return answer
        return answer
