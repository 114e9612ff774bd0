""""Forgot password": single-use links valid for 30 minutes, and setting the new password through one.

Only the SHA-256 of a link's token is stored; the token itself is a keyed hash of a random nonce under the
instance secret (a file outside the database), so the mail job can write the link without the token ever
sitting in the job table, and a database dump alone opens no link. Asking for a link answers the same
whether or not the user exists; asking often from one client is throttled.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.auth.users import MIN_PASSWORD, UserError, UserProblem, hash_password, note_attempt, revoke_tokens, user_ref
from bridge.runtime.secrets import keyed_hash
from bridge.store.db import utcnow
from bridge.store.models import ApiToken, PasswordReset, User, WebSession
from consent.audit import Action, Event, record

LINK_VALIDITY = timedelta(minutes=30)
PER_USER = 3  # links at once per user: more only fill their mailbox
PER_CLIENT = 5  # requests per client in the sign-in throttle's window (15 minutes)


class ResetReason(enum.StrEnum):
    SENT = "sent"
    NO_ADDRESS = "no_address"  # no such user, disabled, or no e-mail address: nothing is sent, nothing said
    TOO_MANY = "too_many"  # links of this user still valid: no further mail

    @property
    def description(self) -> str:
        return {ResetReason.SENT: "a link was made for the mail",
                ResetReason.NO_ADDRESS: "no enabled user with an e-mail address by that name or address",
                ResetReason.TOO_MANY: "the user has enough valid links already"}[self]


@dataclass(frozen=True)
class ResetRequest:
    reason: ResetReason
    user: User | None = None
    reset: PasswordReset | None = None


def link_token(instance_secret: bytes, reset: PasswordReset) -> str:
    return keyed_hash(instance_secret, "password-reset", reset.nonce, 64)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def request_reset(session: AsyncSession, instance_secret: bytes, who: str,
                        now: datetime | None = None) -> ResetRequest:
    """Makes a link for the user named by `who` (user name or e-mail address) if they can receive it."""
    now = now or utcnow()
    typed = who.strip().lower()
    if not typed:
        return ResetRequest(ResetReason.NO_ADDRESS)
    user = await session.scalar(select(User).where(or_(User.name == typed, func.lower(User.email) == typed))
                                .order_by(User.id).limit(1))
    if user is None or user.disabled or not user.email:
        return ResetRequest(ResetReason.NO_ADDRESS)
    valid = await session.scalar(select(func.count()).select_from(PasswordReset).where(
        PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now))
    if valid >= PER_USER:
        return ResetRequest(ResetReason.TOO_MANY, user)
    reset = PasswordReset(user_id=user.id, nonce=secrets.token_hex(32), created_at=now,
                          expires_at=now + LINK_VALIDITY)
    reset.token_hash = _digest(link_token(instance_secret, reset))
    session.add(reset)
    await session.flush()
    await record(session, Event(Action.PASSWORD_RESET_REQUESTED, "anonymous", "anonymous",
                                subject_ref=user_ref(user)))
    return ResetRequest(ResetReason.SENT, user, reset)


async def reset_throttled(session: AsyncSession, client_key: str, now: datetime | None = None) -> bool:
    """Counts a request for a link from this client (a keyed hash of its address); True when it asked too often."""
    return await note_attempt(session, f"reset:{client_key}", PER_CLIENT, now)


async def find_reset(session: AsyncSession, token: str, now: datetime | None = None) -> PasswordReset | None:
    """The link's row while it may be used: not used, not expired, its user not disabled."""
    if not token or len(token) > 200:
        return None
    reset = await session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= (now or utcnow()):
        return None
    user = await session.get(User, reset.user_id)
    return reset if user is not None and not user.disabled else None


async def complete_reset(session: AsyncSession, reset: PasswordReset, new: str, repeat: str,
                         now: datetime | None = None) -> User:
    """Sets the new password; every link of the user dies, every session ends and every API token is revoked
    (whoever knew the old password may have made one)."""
    if new != repeat:
        raise UserProblem(UserError.PASSWORD_MISMATCH)
    if len(new) < MIN_PASSWORD:
        raise UserProblem(UserError.WEAK_PASSWORD)
    user = await session.get_one(User, reset.user_id)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    reset.used_at = now or utcnow()
    await session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id,
                                                      PasswordReset.id != reset.id))
    await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    await record(session, Event(Action.PASSWORD_RESET, user.role, user_ref(user), subject_ref=user_ref(user),
                                reason="forgotten"))
    held = (await session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                         ApiToken.revoked_at.is_(None)))).all()
    await revoke_tokens(session, list(held), user, reason="password_reset")
    return user


async def purge_resets(session: AsyncSession, now: datetime | None = None) -> int:
    """Retention: links are deleted a day after they expired (used or not)."""
    result = await session.execute(delete(PasswordReset).where(
        PasswordReset.expires_at < (now or utcnow()) - timedelta(days=1)))
    return result.rowcount or 0
