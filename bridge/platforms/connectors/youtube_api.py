"""YouTube Data API v3 calls with a Google OAuth 2.0 token (web server flow with `access_type=offline`, scopes
`youtube.upload` and `youtube.force-ssl`). The access token lives an hour; the refresh token
(`POST {oauth_base}/token`, grant_type=refresh_token, with the app's client id and secret) gets a new one and
is kept only in the sealed session. A refused refresh (`invalid_grant`: revoked, or unused for six months)
means the admin must reconnect.

Errors come as `{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}`
(developers.google.com/youtube/v3/docs/errors). Quota is counted in units per day and resets at midnight
Pacific Time: `quotaExceeded` waits until then; `rateLimitExceeded`/`userRateLimitExceeded` and 429 briefly.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.platforms.connectors.base import AccountState, Outcome, Reason, Result
from bridge.platforms.connectors.http import Answer, call, retry_after, short, transport_result
from bridge.platforms.connectors.x_api import XAuth

DAILY_QUOTA = ("quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded")
BRIEF_LIMITS = ("rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED")
AUTH_REASONS = ("authError", "unauthorized", "forbidden", "insufficientPermissions", "youtubeSignupRequired")


def _error(answer: Answer) -> tuple[str, str]:
    """(reason, message) of Google's error object; either may be empty."""
    data = answer.data if isinstance(answer.data, dict) else {}
    error = data.get("error")
    if isinstance(error, str):  # the OAuth token endpoint: {"error": "invalid_grant", "error_description": …}
        return error, short(data.get("error_description") or error)
    error = error if isinstance(error, dict) else {}
    errors = error.get("errors") if isinstance(error.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    return str(first.get("reason") or error.get("status") or ""), short(error.get("message") or first.get("message"))


def quota_reset(now: datetime) -> datetime:
    """The next midnight in Pacific Time, when YouTube's daily quota starts again."""
    try:
        pacific = now.astimezone(ZoneInfo("America/Los_Angeles"))
    except ZoneInfoNotFoundError:  # no tz database: a day is never wrong by more than a day
        return now + timedelta(days=1)
    midnight = (pacific + timedelta(days=1)).replace(hour=0, minute=5, second=0, microsecond=0)
    return midnight.astimezone(timezone.utc)


def classify(answer: Answer, now: datetime, *, write: bool) -> Result | None:
    reason, message = _error(answer)
    if answer.status == 429 or (answer.status == 403 and reason in BRIEF_LIMITS):
        return Result(Outcome.RATE_LIMITED, Reason.RATE_LIMITED, reason or "HTTP 429",
                      retry_at=retry_after(answer.headers, now, timedelta(minutes=5)))
    if answer.status == 403 and reason in DAILY_QUOTA:
        return Result(Outcome.RATE_LIMITED, Reason.RATE_LIMITED, reason, retry_at=quota_reset(now))
    if answer.failure is not None or answer.status >= 500 or answer.malformed:  # a 204 has no body: fine
        return transport_result(answer, write=write)
    if 200 <= answer.status < 300:
        return None
    text = message or reason or f"HTTP {answer.status}"
    if reason == "commentsDisabled":  # the channel turned comments off for this video: nothing to read
        return Result(Outcome.UNSUPPORTED, Reason.REPLIES_UNAVAILABLE, text)
    if answer.status == 401 or reason in AUTH_REASONS or reason == "invalid_grant":
        return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, text)
    if answer.status in (404, 410):
        return Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, text)
    return Result(Outcome.REJECTED, Reason.REJECTED, text)


class YouTubeAuth(XAuth):
    """X's token dance (the session seeded from the config, refreshed when (nearly) expired, missing, or refused
    with a 401, then one repeat); only Google's token endpoint and its client authentication differ. Calls
    take whole URLs (the API and the upload host differ)."""

    def __init__(self, http, oauth_base: str, account: AccountState, credentials, clock) -> None:
        super().__init__(http, "", account, credentials, clock)
        self.oauth_base = oauth_base.rstrip("/")

    async def refresh(self) -> str | Result:
        session = self.session()
        client_id, secret = self.credentials("client_id"), self.credentials("client_secret")
        if not session.get("refresh_token") or not client_id or not secret:
            return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS,
                          "the access token expired; no refresh token or client")
        form = urlencode({"grant_type": "refresh_token", "refresh_token": session["refresh_token"],
                          "client_id": client_id, "client_secret": secret})
        answer = await call(self.http, "POST", f"{self.oauth_base}/token", body=form.encode(),
                            content_type="application/x-www-form-urlencoded")
        data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
        if not data.get("access_token"):
            failure = classify(answer, self.clock(), write=False)
            if failure is None or answer.status in (400, 401):  # invalid_grant: revoked or expired
                return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, "Google refused the refresh token")
            return failure
        now = self.clock()
        seconds = data.get("expires_in") if isinstance(data.get("expires_in"), int) else 3600
        session.update(access_token=str(data["access_token"]),
                       refresh_token=str(data.get("refresh_token") or session["refresh_token"]),
                       expires_at=(now + timedelta(seconds=seconds)).isoformat())
        return str(data["access_token"])
