"""Signed-in sessions and CSRF tokens.

The cookie holds a random token; the database holds only its SHA-256, so a leaked database cannot be
replayed as sessions. Sessions rotate at sign-in, end after the configured idle time, and end at once
when the user is disabled (their rows are deleted). Readers who are not signed in never get a cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from aiohttp import web
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.appkeys import CONFIG, SECRET, WEB_SESSION
from bridge.store.db import utcnow
from bridge.store.models import User, WebSession
from bridge.runtime.secrets import keyed_hash
from bridge.web.clients import client_of

TOUCH_EVERY = timedelta(seconds=60)  # write last_seen at most once a minute per session
ANON_CSRF_TTL = 2 * 3600


def secure_cookies(request: web.Request) -> bool:
    """Secure when the public URL is https, or the client came over https (directly or through a trusted
    proxy's X-Forwarded-Proto); a client's own header can never turn it off."""
    return request.app[CONFIG].instance.https or client_of(request).secure


def cookie_name(request: web.Request) -> str:
    # The __Host- prefix pins the cookie to this exact host over https.
    return "__Host-stadtbote" if secure_cookies(request) else "stadtbote"


def _digest(token: str) -> str:
    # A cookie's bytes beyond UTF-8 arrive as lone surrogates: hashed as they came, they match no session.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def has_session_cookie(request: web.Request) -> bool:
    # Readers send no Cookie header at all: answered without parsing anything.
    return "Cookie" in request.headers and bool(request.cookies.get(cookie_name(request)))


async def load_session(request: web.Request, session: AsyncSession) -> tuple[User, WebSession] | None:
    token = request.cookies.get(cookie_name(request))
    if not token:
        return None
    row = await session.get(WebSession, _digest(token))
    if row is None:
        return None
    user = await session.get(User, row.user_id)
    now = utcnow()
    idle = timedelta(minutes=request.app[CONFIG].instance.session_idle_minutes)
    if user is None or user.disabled or now - row.last_seen_at > idle:
        await session.delete(row)
        await session.commit()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        await session.commit()
    return user, row


async def start_session(request: web.Request, session: AsyncSession, user: User,
                        response: web.StreamResponse) -> WebSession:
    """A new token at every sign-in (rotation), so a token planted before sign-in is worthless."""
    old = request.cookies.get(cookie_name(request))
    if old:
        await session.execute(delete(WebSession).where(WebSession.token_hash == _digest(old)))
    token = secrets.token_urlsafe(32)
    row = WebSession(token_hash=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32))
    session.add(row)
    response.set_cookie(cookie_name(request), token, httponly=True, samesite="Strict", path="/",
                        secure=secure_cookies(request))
    return row


async def end_session(request: web.Request, session: AsyncSession, response: web.StreamResponse) -> None:
    token = request.cookies.get(cookie_name(request))
    if token:
        await session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
    response.del_cookie(cookie_name(request), path="/", secure=secure_cookies(request))


async def end_user_sessions(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def anonymous_csrf_token(secret: bytes, now: float | None = None) -> str:
    """For forms shown before sign-in: a timestamped HMAC, so no cookie is needed to check it."""
    stamp = str(int(now if now is not None else time.time()))
    return f"{stamp}.{keyed_hash(secret, 'csrf', stamp, 64)}"


def check_anonymous_csrf(secret: bytes, token: str, now: float | None = None) -> bool:
    stamp, _, mac = token.partition(".")
    if not stamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(stamp)) > ANON_CSRF_TTL:
        return False
    return hmac.compare_digest(mac, keyed_hash(secret, "csrf", stamp, 64))


def csrf_token_for(request: web.Request) -> str:
    row: WebSession | None = request.get(WEB_SESSION)
    return row.csrf_token if row is not None else anonymous_csrf_token(request.app[SECRET])


def check_csrf(request: web.Request, submitted: str) -> bool:
    if not submitted.isascii():  # no token is; and compare_digest refuses other text with a TypeError
        return False
    row: WebSession | None = request.get(WEB_SESSION)
    if row is not None:
        return bool(submitted) and hmac.compare_digest(submitted, row.csrf_token)
    return bool(submitted) and check_anonymous_csrf(request.app[SECRET], submitted)


def client_key(request: web.Request) -> str:
    """A keyed hash of the client address for sign-in throttling; the address itself is never stored."""
    return keyed_hash(request.app[SECRET], "client", client_of(request).address or "unknown")
