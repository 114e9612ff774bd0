"""Long-lived access tokens kept in the account's sealed session (Meta, LinkedIn, X).

The admin puts a token into the config; a platform that lets us refresh it hands back a new one, which
lives only in the session. When the admin pastes a new token (a reconnect), its fingerprint differs from
the one the session was seeded with, and the configured token wins again. `AccountState.token_expires_at`
is what the admin page shows ("soon" well before the end), so every connector keeps it current.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta, timezone

from bridge.platforms.connectors.base import AccountState


def fingerprint(token: str) -> str:
    """Enough to notice a new token, useless to anyone who reads it (the session is sealed anyway)."""
    return hashlib.sha256(f"stadtbote-token:{token}".encode()).hexdigest()[:16]


def seeded(account: AccountState, configured: str, **extra) -> dict:
    """The token session, (re)started from the configured token when that token is new."""
    session = account.session if isinstance(account.session, dict) else {}
    mark = fingerprint(configured)
    if session.get("seed") != mark:
        session = {"seed": mark, "access_token": configured, **extra}
        account.session = session
    return session


def when(value) -> datetime | None:
    """A TOML date/datetime or an ISO string as an aware datetime (UTC when no zone is given)."""
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        found = datetime.combine(value, time())
    else:
        try:
            found = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
        except ValueError:
            return None
    if found is None:
        return None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def store_expiry(account: AccountState, session: dict, now: datetime, expires_in) -> None:
    """`expires_in` seconds from now, as the platform said; kept in the session and shown to the admin."""
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in > 0:
        session["expires_at"] = (now + timedelta(seconds=int(expires_in))).isoformat()
    account.token_expires_at = when(session.get("expires_at")) or account.token_expires_at


def show_expiry(account: AccountState, session: dict, configured) -> None:
    """What the admin sees: the expiry the platform told us, else the one the admin wrote in the config."""
    account.token_expires_at = when(session.get("expires_at")) or when(configured)


def due(session: dict, key: str, now: datetime, every: timedelta) -> bool:
    last = when(session.get(key))
    return last is None or now - last >= every
