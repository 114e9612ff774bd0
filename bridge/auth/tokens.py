"""API bearer tokens: created by an admin or obtained by an app through OAuth (`bridge.auth.oauth`), bound to
one user and one actor, stored hashed, revocable."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.db import utcnow
from bridge.store.models import Actor, ApiToken, OAuthApp, User
from bridge.auth.users import may_use_actor, revoke_tokens, user_ref
from consent.audit import Action, Event, Outcome, record


class TokenReason(enum.StrEnum):
    OK = "ok"
    MISSING = "missing_token"
    UNKNOWN = "unknown_token"
    REVOKED = "revoked_token"
    USER_DISABLED = "user_disabled"
    ACTOR_NOT_ALLOWED = "actor_not_allowed"
    UNKNOWN_USER = "unknown_user"
    UNKNOWN_ACTOR = "unknown_actor"
    OUTSIDE_SCOPES = "outside_scopes"


TOKEN_TEXT = {
    TokenReason.OK: "valid token",
    TokenReason.MISSING: "The access token is missing",
    TokenReason.UNKNOWN: "The access token is invalid",
    TokenReason.REVOKED: "The access token was revoked",
    TokenReason.USER_DISABLED: "Your login is currently disabled",
    TokenReason.ACTOR_NOT_ALLOWED: "the user may not post as this account",
    TokenReason.UNKNOWN_USER: "no such user",
    TokenReason.UNKNOWN_ACTOR: "no such account",
    TokenReason.OUTSIDE_SCOPES: "This action is outside the authorized scopes",  # Mastodon's words
}


@dataclass(frozen=True)
class TokenResult:
    reason: TokenReason
    token: ApiToken | None = None
    secret: str | None = None  # the clear token, only right after creation

    @property
    def ok(self) -> bool:
        return self.reason is TokenReason.OK

    @property
    def description(self) -> str:
        return TOKEN_TEXT[self.reason]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(session: AsyncSession, user_name: str, actor_name: str, label: str = "",
                       by: User | None = None) -> TokenResult:
    user = await session.scalar(select(User).where(User.name == user_name))
    if user is None:
        return TokenResult(TokenReason.UNKNOWN_USER)
    actor = await session.scalar(select(Actor).where(Actor.name == actor_name))
    if actor is None:
        return TokenResult(TokenReason.UNKNOWN_ACTOR)
    if not may_use_actor(user, actor_name):
        return TokenResult(TokenReason.ACTOR_NOT_ALLOWED)
    return await issue_token(session, user, actor, label=label, by=by)


async def issue_token(session: AsyncSession, user: User, actor: Actor, *, label: str = "",
                      app: OAuthApp | None = None, scopes: str | None = None, by: User | None = None) -> TokenResult:
    """A new token; the caller has checked `may_use_actor`. `app` and `scopes` for tokens from OAuth."""
    secret = secrets.token_urlsafe(32)
    token = ApiToken(token_sha256=digest(secret), user_id=user.id, actor_id=actor.id, label=label[:100],
                     app_id=app.id if app else None, scopes=scopes, created_at=utcnow())
    session.add(token)
    await session.flush()
    details = {"user": user_ref(user), "actor": actor.name} | ({"app": f"app:{app.id}"} if app else {})
    await record(session, Event(Action.TOKEN_CREATED, by.role if by else "system", user_ref(by),
                                subject_ref=f"token:{token.id}", details=details))
    return TokenResult(TokenReason.OK, token, secret)


async def revoke_token(session: AsyncSession, token_id: int, by: User | None = None) -> TokenResult:
    token = await session.get(ApiToken, token_id)
    if token is None:
        return TokenResult(TokenReason.UNKNOWN)
    await revoke_tokens(session, [token], by)
    return TokenResult(TokenReason.OK, token)


async def authenticate_token(session: AsyncSession, authorization: str | None) -> TokenResult:
    """Checks an `Authorization: Bearer …` header; rejections are audited without the token value."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return TokenResult(TokenReason.MISSING)
    token = await session.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest(secret.strip())))
    reason = TokenReason.OK
    if token is None:
        reason = TokenReason.UNKNOWN
    elif token.revoked_at is not None:
        reason = TokenReason.REVOKED
    elif token.user.disabled:
        reason = TokenReason.USER_DISABLED
    elif not may_use_actor(token.user, token.actor.name):
        reason = TokenReason.ACTOR_NOT_ALLOWED
    if reason is not TokenReason.OK:
        return await refuse_token(session, token, reason)
    token.last_used_at = utcnow()
    return TokenResult(TokenReason.OK, token)


async def refuse_token(session: AsyncSession, token: ApiToken | None, reason: TokenReason) -> TokenResult:
    """Audits a refused use of a token (by its id, never its value) and commits: the caller answers with an
    error, which rolls back anything else."""
    await record(session, Event(Action.TOKEN_REJECTED, "api", f"token:{token.id}" if token else "anonymous",
                                Outcome.DENIED, reason=str(reason)))
    await session.commit()
    return TokenResult(reason)


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    return list((await session.scalars(select(ApiToken).order_by(ApiToken.id))).all())
