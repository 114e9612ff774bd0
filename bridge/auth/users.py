"""Users of the authority (admins, editors, DPOs): creation, passwords, sign-in with throttling."""

from __future__ import annotations

import enum
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.config.model import Config
from bridge.store.db import upsert_dialect, utcnow
from bridge.store.models import Actor, ApiToken, Role, SigninThrottle, User, WebSession
from consent.audit import Action, Event, Outcome, record

USER_NAME = re.compile(r"^[a-z0-9_.-]{2,64}$")
# Deliverable enough to try; the SMTP server decides the rest. No spaces, one @, a dot in the domain.
EMAIL = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f.]+$")
MIN_PASSWORD = 12
SYSTEM_PREFIX = "system:"  # names of users that exist only in memory (never stored, never sign in)
# Failures within the window before a block: of one client at one account, and of one client at all (more
# room: an office may sit behind one address). Never of an account alone: anyone anywhere could then lock
# its owner out.
ACCOUNT_LIMIT, CLIENT_LIMIT = 5, 20
WINDOW = timedelta(minutes=15)
_hasher = PasswordHasher()  # Argon2id with argon2-cffi's RFC 9106 low-memory profile


class UserError(enum.StrEnum):
    INVALID_NAME = "invalid_name"
    NAME_TAKEN = "name_taken"
    INVALID_ROLE = "invalid_role"
    UNKNOWN_ACTOR = "unknown_actor"
    UNKNOWN_USER = "unknown_user"
    WEAK_PASSWORD = "weak_password"
    PASSWORD_MISMATCH = "password_mismatch"
    SAME_PASSWORD = "same_password"
    WRONG_CURRENT_PASSWORD = "wrong_current_password"
    INVALID_EMAIL = "invalid_email"


USER_ERROR_TEXT = {
    UserError.INVALID_NAME: "user names use 2-64 lowercase letters, digits, '.', '_' or '-'",
    UserError.NAME_TAKEN: "a user with this name exists already",
    UserError.INVALID_ROLE: "role must be admin, editor or dpo",
    UserError.UNKNOWN_ACTOR: "no such account in the configuration",
    UserError.UNKNOWN_USER: "no such user",
    UserError.WEAK_PASSWORD: f"the password needs at least {MIN_PASSWORD} characters",
    UserError.PASSWORD_MISMATCH: "the two passwords differ",
    UserError.SAME_PASSWORD: "choose a password different from the current one",
    UserError.WRONG_CURRENT_PASSWORD: "the current password is wrong",
    UserError.INVALID_EMAIL: "this is not an e-mail address",
}


class UserProblem(Exception):
    def __init__(self, reason: UserError):
        super().__init__(USER_ERROR_TEXT[reason])
        self.reason = reason


class SigninReason(enum.StrEnum):
    OK = "ok"
    WRONG_CREDENTIALS = "wrong_credentials"
    DISABLED = "disabled"
    THROTTLED = "throttled"
    SECOND_FACTOR_NEEDED = "second_factor_needed"  # the password was right; now the code from the app
    WRONG_CODE = "wrong_code"  # the second factor was wrong (or used already, or the step expired)


@dataclass(frozen=True)
class SigninResult:
    reason: SigninReason
    user: User | None = None

    @property
    def ok(self) -> bool:
        return self.reason is SigninReason.OK


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    return secrets.token_urlsafe(15)


def user_ref(user: User | None) -> str:
    if user is None:
        return "anonymous"
    if user.id is None and user.name.startswith(SYSTEM_PREFIX):
        return user.name  # a system user such as the feed importer is never stored: "system:feed-import"
    return f"user:{user.id}"


async def find_user(session: AsyncSession, name: str) -> User | None:
    return await session.scalar(select(User).where(User.name == name))


async def check_new_user(session: AsyncSession, name: str, role: str, actor_names: list[str]) -> list[Actor]:
    """The rules a new user must meet (name, role, accounts); raises UserProblem, else gives the accounts."""
    if not USER_NAME.match(name):
        raise UserProblem(UserError.INVALID_NAME)
    if role not in set(Role):
        raise UserProblem(UserError.INVALID_ROLE)
    if await find_user(session, name):
        raise UserProblem(UserError.NAME_TAKEN)
    actors = [await session.scalar(select(Actor).where(Actor.name == a)) for a in actor_names]
    if any(a is None for a in actors):
        raise UserProblem(UserError.UNKNOWN_ACTOR)
    return actors


async def create_user(session: AsyncSession, name: str, role: str, actor_names: list[str],
                      by: User | None = None, password: str | None = None) -> tuple[User, str]:
    """Creates a user with a one-time password (changed at first sign-in); returns both."""
    actors = await check_new_user(session, name, role, actor_names)
    password = password or new_password()
    user = User(name=name, role=role, password_hash=hash_password(password), must_change_password=True,
                actors=actors)
    session.add(user)
    await session.flush()
    await record(session, Event(Action.USER_CREATED, by.role if by else "system", user_ref(by),
                                subject_ref=user_ref(user), details={"role": role}))
    return user, password


async def set_actors(session: AsyncSession, user: User, actor_names: list[str], by: User) -> None:
    actors = list((await session.scalars(select(Actor).where(Actor.name.in_(actor_names)))).all())
    if len(actors) != len(set(actor_names)):
        raise UserProblem(UserError.UNKNOWN_ACTOR)
    user.actors = actors
    await record(session, Event(Action.USER_ROLE_CHANGED, by.role, user_ref(by), subject_ref=user_ref(user),
                                details={"role": user.role, "actors": sorted(actor_names)}))


async def set_role(session: AsyncSession, user: User, role: str, by: User) -> None:
    if role not in set(Role):
        raise UserProblem(UserError.INVALID_ROLE)
    user.role = role
    await record(session, Event(Action.USER_ROLE_CHANGED, by.role, user_ref(by), subject_ref=user_ref(user),
                                details={"role": role}))


def check_email(email: str) -> str:
    """The address as it will be stored ("" for none); raises UserProblem for one that is none."""
    email = email.strip()
    if email and (len(email) > 254 or not EMAIL.match(email)):
        raise UserProblem(UserError.INVALID_EMAIL)
    return email


async def set_email(session: AsyncSession, user: User, email: str, by: User, reply_digest: bool | None = None) -> None:
    """Sets (or with "" removes) a user's e-mail address; `reply_digest` the opt-in for the daily summary."""
    email = check_email(email)
    if (email or None) != user.email:
        user.email = email or None
        await record(session, Event(Action.EMAIL_CHANGED, by.role, user_ref(by), subject_ref=user_ref(user),
                                    details={"set": bool(email)}))
    if reply_digest is not None:
        user.reply_digest = reply_digest


async def disable_user(session: AsyncSession, user: User, by: User | None) -> None:
    """Disabling ends every session at once (the rows go, not just a flag) and revokes every API token, so
    enabling the user again does not bring an app's old sign-in back."""
    user.disabled = True
    await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    await record(session, Event(Action.USER_DISABLED, by.role if by else "system", user_ref(by),
                                subject_ref=user_ref(user)))
    await _revoke_held(session, user, by, "user_disabled")


async def reset_password(session: AsyncSession, user: User, by: User | None) -> str:
    """A reset assumes the password may be known to someone else: every session ends and every API token
    the user holds is revoked (a token may have been made with the stolen sign-in)."""
    password = new_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    await record(session, Event(Action.PASSWORD_RESET, by.role if by else "system", user_ref(by),
                                subject_ref=user_ref(user)))
    await _revoke_held(session, user, by, "password_reset")
    return password


async def _revoke_held(session: AsyncSession, user: User, by: User | None, reason: str) -> None:
    held = (await session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                         ApiToken.revoked_at.is_(None)))).all()
    await revoke_tokens(session, list(held), by, reason=reason)


async def revoke_tokens(session: AsyncSession, tokens: list[ApiToken], by: User | None,
                        reason: str | None = None) -> None:
    """Revokes API tokens, each audited; already revoked ones stay as they are."""
    now = utcnow()
    for token in tokens:
        if token.revoked_at is None:
            token.revoked_at = now
            await record(session, Event(Action.TOKEN_REVOKED, by.role if by else "system", user_ref(by),
                                        subject_ref=f"token:{token.id}", reason=reason))


async def change_password(session: AsyncSession, user: User, current: str, new: str, repeat: str) -> None:
    if not check_password(user.password_hash, current):
        raise UserProblem(UserError.WRONG_CURRENT_PASSWORD)
    if new != repeat:
        raise UserProblem(UserError.PASSWORD_MISMATCH)
    if len(new) < MIN_PASSWORD:
        raise UserProblem(UserError.WEAK_PASSWORD)
    if new == current:
        raise UserProblem(UserError.SAME_PASSWORD)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    await record(session, Event(Action.PASSWORD_CHANGED, user.role, user_ref(user), subject_ref=user_ref(user)))


async def authenticate(session: AsyncSession, name: str, password: str, client_key: str,
                       now: datetime | None = None) -> SigninResult:
    """Checks a password with throttling per (account, client) and per client; records the outcome.

    `client_key` is a keyed hash of the client's address, so no address is stored here."""
    now = now or utcnow()
    keys = _throttle_keys(client_key, name)
    if await _blocked(session, [k for k, _ in keys], now):
        await _audit_signin(session, None, Action.SIGNIN_THROTTLED, SigninReason.THROTTLED)
        return SigninResult(SigninReason.THROTTLED)
    user = await find_user(session, name)
    # Hash even for unknown users so timing does not reveal which names exist.
    valid = check_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not valid:
        for key, limit in keys:
            await _count_failure(session, key, limit, now)
        await _audit_signin(session, user, Action.SIGNIN_FAILED, SigninReason.WRONG_CREDENTIALS)
        return SigninResult(SigninReason.WRONG_CREDENTIALS)
    if user.disabled:
        await _audit_signin(session, user, Action.SIGNIN_FAILED, SigninReason.DISABLED)
        return SigninResult(SigninReason.DISABLED)
    if user.totp_enabled_at is not None:
        # The throttle keeps counting until the code is right too: the code is guessed at the same door.
        await record(session, Event(Action.SIGNIN_SECOND_FACTOR, user.role, user_ref(user)))
        return SigninResult(SigninReason.SECOND_FACTOR_NEEDED, user)
    return await signin_succeeded(session, user, client_key)


async def signin_succeeded(session: AsyncSession, user: User, client_key: str) -> SigninResult:
    """The last step of a sign-in went right: this client's failures at this account are forgotten."""
    await session.execute(delete(SigninThrottle).where(SigninThrottle.key == _pair_key(client_key, user.name)))
    await _audit_signin(session, user, Action.SIGNIN_SUCCEEDED, SigninReason.OK)
    return SigninResult(SigninReason.OK, user)


async def signin_failed(session: AsyncSession, user: User, client_key: str, reason: SigninReason,
                        now: datetime | None = None) -> SigninResult:
    """A later step of a sign-in (the second factor) failed: counted like a wrong password."""
    now = now or utcnow()
    for key, limit in _throttle_keys(client_key, user.name):
        await _count_failure(session, key, limit, now)
    await _audit_signin(session, user, Action.SIGNIN_FAILED, reason)
    return SigninResult(reason)


async def proof_failed(session: AsyncSession, user: User, client_key: str, now: datetime | None = None) -> None:
    """A signed-in person's proof (password or code, e.g. to switch the second factor off) was wrong: it counts
    against the sign-in throttle, so a taken-over session cannot try codes without limit. The caller audits."""
    now = now or utcnow()
    for key, limit in _throttle_keys(client_key, user.name):
        await _count_failure(session, key, limit, now)


async def signin_throttled(session: AsyncSession, name: str, client_key: str, now: datetime | None = None) -> bool:
    return await _blocked(session, [k for k, _ in _throttle_keys(client_key, name)], now or utcnow())


async def note_attempt(session: AsyncSession, key: str, limit: int, now: datetime | None = None) -> bool:
    """Counts one attempt under `key` (e.g. asking for password links from one client); True when the key is
    blocked, then the attempt is not counted again."""
    now = now or utcnow()
    if await _blocked(session, [key], now):
        return True
    await _count_failure(session, key, limit, now)
    return False


def _throttle_keys(client_key: str, name: str) -> list[tuple[str, int]]:
    return [(_pair_key(client_key, name), ACCOUNT_LIMIT), (f"client:{client_key}", CLIENT_LIMIT)]


async def signin_blocks(session: AsyncSession, user: User, now: datetime | None = None) -> int:
    """How many clients are blocked from signing in as `user` right now (for the admin's user page)."""
    rows = await session.scalars(select(SigninThrottle).where(_of_account(user.name)))
    now = now or utcnow()
    return sum(1 for r in rows if r.blocked_until is not None and r.blocked_until > now)


async def unblock_signin(session: AsyncSession, user: User, by: User) -> int:
    """An admin lifts every sign-in block on `user`: from each client that failed at this account, and the
    whole-client block of those clients (the owner may sit behind one of them). Returns the clients."""
    rows = list((await session.scalars(select(SigninThrottle).where(_of_account(user.name)))).all())
    clients = [f"client:{r.key.split(':')[1]}" for r in rows]
    await session.execute(delete(SigninThrottle).where(
        SigninThrottle.key.in_([r.key for r in rows] + clients)))
    await record(session, Event(Action.SIGNIN_UNBLOCKED, by.role, user_ref(by), subject_ref=user_ref(user),
                                details={"clients": len(rows)}))
    return len(rows)


def _account_digest(name: str) -> str:
    # A digest, not the name: the key column is short and the name is whatever was typed.
    return hashlib.sha256(name.lower().encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _pair_key(client_key: str, name: str) -> str:
    return f"pair:{client_key}:{_account_digest(name)}"


def _of_account(name: str):
    return SigninThrottle.key.startswith("pair:") & SigninThrottle.key.endswith(f":{_account_digest(name)}")


@functools.cache
def _dummy_hash() -> str:
    """Made on first use, not at import: every CLI verb imports this module and an Argon2 hash costs ~1 s."""
    return _hasher.hash("not a real password")


async def _blocked(session: AsyncSession, keys: list[str], now: datetime) -> bool:
    rows = (await session.scalars(select(SigninThrottle).where(SigninThrottle.key.in_(keys)))).all()
    return any(r.blocked_until is not None and r.blocked_until > now for r in rows)


async def _count_failure(session: AsyncSession, key: str, limit: int, now: datetime) -> None:
    # Created if need be without a plain INSERT (failures sent at once broke on the primary key), then
    # locked (PostgreSQL) so that each failure counts; on SQLite the INSERT already holds the write lock.
    dialect = upsert_dialect(session.bind)
    await session.execute(dialect.insert(SigninThrottle).values(key=key, failures=0, window_start=now)
                          .on_conflict_do_nothing(index_elements=["key"]))
    row = await session.get_one(SigninThrottle, key, populate_existing=True, with_for_update=True)
    if now - row.window_start > WINDOW:
        row.failures, row.window_start, row.blocked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit:
        row.blocked_until = now + WINDOW
    await session.flush()


async def _audit_signin(session: AsyncSession, user: User | None, action: Action, reason: SigninReason) -> None:
    outcome = Outcome.OK if reason is SigninReason.OK else Outcome.DENIED
    await record(session, Event(action, user.role if user else "anonymous", user_ref(user), outcome,
                                reason=None if reason is SigninReason.OK else str(reason)))


def may_use_actor(user: User, actor_name: str) -> bool:
    if user.disabled or user.role == Role.DPO:
        return False
    return user.role == Role.ADMIN or any(a.name == actor_name for a in user.actors)


def allowed_actors(config: Config, user: User) -> list[str]:
    """The accounts the user works for, retired ones included: their archive, replies and reach stay."""
    return [a.name for a in config.actors if may_use_actor(user, a.name)]


def postable_actors(config: Config, user: User) -> list[str]:
    """The accounts offered for a new post: a retired account takes no more posts."""
    return [a.name for a in config.actors if not a.retired and may_use_actor(user, a.name)]
