"""Platform account state between jobs: the cached session (sealed), instance limits, the rate-limit pause
and "reconnect needed". A paused or disconnected account stops only its own platform's jobs."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.platforms.connectors.base import AccountState, Result
from bridge.store.db import utcnow
from bridge.store.platforms import AccountStatus, PlatformAccount

SESSION_KEY_LABEL = b"stadtbote/platform-sessions/v1"


def session_key(kek: bytes) -> bytes:
    """A key of its own for platform sessions, derived from the instance's key-encryption key."""
    return hmac.new(kek, SESSION_KEY_LABEL, hashlib.sha256).digest()


def seal_session(key: bytes, platform_id: str, session: dict) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, json.dumps(session).encode(), platform_id.encode())


def open_session(key: bytes, platform_id: str, blob: bytes | None) -> dict | None:
    """The session, or None when there is none or it cannot be opened (a new secret: log in again)."""
    if not blob or len(blob) < 13:
        return None
    try:
        return json.loads(AESGCM(key).decrypt(blob[:12], blob[12:], platform_id.encode()))
    except (InvalidTag, ValueError):
        return None


async def account_row(session: AsyncSession, platform_id: str) -> PlatformAccount:
    row = await session.get(PlatformAccount, platform_id)
    if row is None:
        row = PlatformAccount(platform_id=platform_id, status=AccountStatus.OK, limits={}, updated_at=utcnow())
        session.add(row)
        await session.flush()
    return row


def load_state(row: PlatformAccount, key: bytes) -> AccountState:
    return AccountState(session=open_session(key, row.platform_id, row.sealed_session), limits=dict(row.limits or {}),
                        cursor=row.cursor, token_expires_at=row.token_expires_at)


def save_state(row: PlatformAccount, key: bytes, state: AccountState, now: datetime) -> None:
    row.sealed_session = seal_session(key, row.platform_id, state.session) if state.session else None
    row.limits = dict(state.limits)
    row.cursor = state.cursor
    row.token_expires_at = state.token_expires_at
    row.updated_at = now


def paused(row: PlatformAccount, now: datetime) -> datetime | None:
    return row.paused_until if row.paused_until is not None and row.paused_until > now else None


def pause(row: PlatformAccount, until: datetime, now: datetime) -> None:
    """Rate limited: every job of this platform waits until `until` (never earlier than asked)."""
    if row.paused_until is None or row.paused_until < until:
        row.paused_until = until
    row.updated_at = now


def need_reconnect(row: PlatformAccount, result: Result, now: datetime) -> bool:
    """Marks the account; True when it was fine before (so the caller records one audit entry, not many)."""
    was_ok = row.status != AccountStatus.RECONNECT_NEEDED
    row.status, row.reason, row.detail = AccountStatus.RECONNECT_NEEDED, str(result.reason), result.detail[:300]
    row.sealed_session = None  # a session the platform refused is worth nothing
    row.updated_at = now
    return was_ok


def mark_checked(row: PlatformAccount, result: Result, now: datetime) -> None:
    row.status, row.reason, row.detail = AccountStatus.OK, None, None
    row.checked_at = row.updated_at = now
