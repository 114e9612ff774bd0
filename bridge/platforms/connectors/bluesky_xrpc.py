"""XRPC calls to a PDS with a cached session: created once with the app password, refreshed with
`com.atproto.server.refreshSession` when the access token expires (createSession is limited to about
100 a day, so logging in per post would lock the account out). Tokens stay in `AccountState.session`."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from bridge.platforms.connectors.base import AccountState, Outcome, Reason, Result
from bridge.platforms.connectors.http import Answer, call, epoch, retry_after, short, transport_result

AUTH_ERRORS = ("AuthenticationRequired", "InvalidToken", "AccountTakedown", "AccountDeactivated", "InvalidPassword")
EXPIRED = ("ExpiredToken", "InvalidToken")
SKEW = timedelta(seconds=60)


def jwt_expiry(token: str) -> datetime | None:
    """The `exp` of a JWT, read without verifying (only to know when to refresh our own token)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), timezone.utc)
    except (IndexError, KeyError, ValueError, TypeError):
        return None


def xrpc_error(answer: Answer) -> tuple[str, str]:
    data = answer.data if isinstance(answer.data, dict) else {}
    return str(data.get("error") or ""), short(data.get("message"))


def classify(answer: Answer, now: datetime, *, write: bool) -> Result | None:
    """None for a success; else the result every XRPC call shares."""
    if answer.status == 429:
        reset = epoch(answer.headers.get("ratelimit-reset"))
        return Result(Outcome.RATE_LIMITED, Reason.RATE_LIMITED, "HTTP 429",
                      retry_at=reset if reset and reset > now else retry_after(answer.headers, now))
    common = transport_result(answer, write=write)
    if common is not None:
        return common
    if 200 <= answer.status < 300:
        return None
    error, message = xrpc_error(answer)
    if answer.status == 401 or error in AUTH_ERRORS:
        return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, f"{error}: {message}".strip(": "))
    if error in ("RecordNotFound", "NotFound") or answer.status == 404:
        return Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, error or f"HTTP {answer.status}")
    return Result(Outcome.REJECTED, Reason.REJECTED, f"{error or 'HTTP ' + str(answer.status)}: {message}".strip(": "))


def pds_endpoint(did_doc: Any) -> str | None:
    """The `#atproto_pds` service of the account's DID document: the PDS itself (bsky.social is only the
    entryway in front of many), which services like the video service know it by."""
    services = did_doc.get("service") if isinstance(did_doc, dict) else None
    for service in services if isinstance(services, list) else []:
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
            endpoint = service.get("serviceEndpoint")
            return endpoint if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")) else None
    return None


class Xrpc:
    def __init__(self, http, base: str, identifier: str, password: str, account: AccountState, clock):
        self.http, self.base, self.identifier, self.password = http, base.rstrip("/"), identifier, password
        self.account, self.clock = account, clock

    @property
    def did(self) -> str:
        return (self.account.session or {}).get("did", "")

    def url(self, nsid: str, params: dict | None = None) -> str:
        return f"{self.base}/xrpc/{nsid}" + (f"?{urlencode(params)}" if params else "")

    async def login(self) -> Result | None:
        """A session exists and is fresh afterwards, or the failure why not."""
        session = self.account.session
        access = (session or {}).get("accessJwt") or ""
        expiry = jwt_expiry(access)
        if access and (expiry is None or expiry > self.clock() + SKEW):
            return None  # fresh (an unreadable expiry is trusted until the PDS says ExpiredToken)
        if session and session.get("refreshJwt"):
            refreshed = await self._session_call("com.atproto.server.refreshSession", session["refreshJwt"], None)
            if refreshed is None:
                return None
            if refreshed.outcome not in (Outcome.AUTH_FAILED, Outcome.REJECTED):
                return refreshed  # unreachable or rate limited: keep the session, try later
        body = {"identifier": self.identifier, "password": self.password}
        return await self._session_call("com.atproto.server.createSession", None, body)

    async def _session_call(self, nsid: str, bearer: str | None, body: dict | None) -> Result | None:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        answer = await call(self.http, "POST", self.url(nsid), headers=headers, json_body=body if body else None)
        failure = classify(answer, self.clock(), write=False)
        if failure is not None:
            return failure
        data = answer.data if isinstance(answer.data, dict) else {}
        if not data.get("accessJwt") or not data.get("did"):
            return Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, nsid)
        pds = pds_endpoint(data.get("didDoc")) or (self.account.session or {}).get("pds")
        self.account.session = {k: data.get(k) for k in ("did", "handle", "accessJwt", "refreshJwt")}
        if pds:
            self.account.session["pds"] = pds
        self.account.token_expires_at = jwt_expiry(data.get("refreshJwt") or "")
        return None

    async def request(self, method: str, nsid: str, *, params: dict | None = None, json_body: Any = None,
                      body: bytes | None = None, content_type: str | None = None) -> Answer | Result:
        """An authenticated call; an expired access token is refreshed once and the call repeated."""
        for attempt in (1, 2):
            failed = await self.login()
            if failed is not None:
                return failed
            headers = {"Authorization": f"Bearer {self.account.session['accessJwt']}"}
            answer = await call(self.http, method, self.url(nsid, params), headers=headers, json_body=json_body,
                                body=body, content_type=content_type)
            if attempt == 1 and answer.status in (400, 401) and xrpc_error(answer)[0] in EXPIRED:
                self.account.session = {**self.account.session, "accessJwt": ""}  # forces a refresh
                continue
            return answer
        return answer
