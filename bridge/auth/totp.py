"""The second factor: TOTP (RFC 6238, 30-second steps, six digits) and ten single-use recovery codes.

The secret is stored encrypted (AES-256-GCM) under a key derived from the instance secret, which lives in a
file beside the database and not in it: a database dump alone gives no one the codes. Each time step counts
once per user, so a code seen over someone's shoulder cannot be replayed in the same half minute.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import importlib
import io
import secrets
import time
from dataclasses import dataclass

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.auth.users import check_password, user_ref
from bridge.config.model import Config
from bridge.store.db import utcnow
from bridge.store.models import RecoveryCode, User, WebSession
from consent.audit import Action, Event, Outcome, record

RECOVERY_CODES = 10
STEP = 30
PENDING_TTL = 15 * 60  # how long an enrolment form stays good
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are typed from paper


class CodeCheck(enum.StrEnum):
    OK = "ok"
    RECOVERY_USED = "recovery_used"
    WRONG_CODE = "wrong_code"
    REPLAYED = "replayed"
    EXPIRED = "expired"  # the enrolment form is too old or was tampered with

    @property
    def description(self) -> str:
        return {CodeCheck.OK: "the code was right", CodeCheck.RECOVERY_USED: "a recovery code was used",
                CodeCheck.WRONG_CODE: "the code was wrong", CodeCheck.REPLAYED: "the code was used already",
                CodeCheck.EXPIRED: "the enrolment form expired"}[self]

    @property
    def ok(self) -> bool:
        return self in (CodeCheck.OK, CodeCheck.RECOVERY_USED)


@dataclass(frozen=True)
class Enrolment:
    """A secret offered to the user, not yet confirmed: what the enrolment page shows and sends back."""

    secret: str  # base32, for typing into an app by hand
    sealed: str  # the same, encrypted, for the form's hidden field
    uri: str  # otpauth:// for the QR code

    def qr_svg(self) -> str:
        """The QR code as inline SVG, made here: the secret never leaves the server for a QR service."""
        out = io.BytesIO()
        # Imported here, not at start: only the enrolment page draws a QR code (memory of every process).
        qr = importlib.import_module("segno").make(self.uri, error="m")
        qr.save(out, kind="svg", scale=5, border=2, xmldecl=False, svgns=True, title="", nl=False)
        return out.getvalue().decode()


def required(config: Config, user: User) -> bool:
    return user.role in config.security.require_second_factor


def enrolled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def needs_enrolment(config: Config, user: User) -> bool:
    return required(config, user) and not enrolled(user)


def start_enrolment(instance_secret: bytes, config: Config, user: User) -> Enrolment:
    secret = pyotp.random_base32()
    return _offer(instance_secret, config, user, secret)


def resume_enrolment(instance_secret: bytes, config: Config, user: User, sealed: str) -> Enrolment | None:
    """The enrolment from a form sent back (to show the same QR code with a problem), or None if expired."""
    opened = _open(instance_secret, sealed, f"enrol:{user.id}")
    if opened is None:
        return None
    stamp, _, secret = opened.partition(":")
    if not stamp.isdigit() or time.time() - int(stamp) > PENDING_TTL:
        return None
    return _offer(instance_secret, config, user, secret, int(stamp))


def _offer(instance_secret: bytes, config: Config, user: User, secret: str, stamp: int | None = None) -> Enrolment:
    sealed = _seal(instance_secret, f"{stamp or int(time.time())}:{secret}", f"enrol:{user.id}")
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.name, issuer_name=config.instance.name)
    return Enrolment(secret, sealed, uri)


async def confirm_enrolment(session: AsyncSession, instance_secret: bytes, user: User, enrolment: Enrolment,
                            code: str) -> tuple[CodeCheck, list[str]]:
    """Switches the second factor on once the app shows the right code; answers the ten recovery codes
    (shown once, only their keyed hashes are kept)."""
    step = _matching_step(enrolment.secret, code, None)
    if step is None:
        return CodeCheck.WRONG_CODE, []
    user.totp_secret = _seal(instance_secret, enrolment.secret, f"totp:{user.id}")
    user.totp_enabled_at, user.totp_last_step = utcnow(), step
    codes = await _new_recovery_codes(session, instance_secret, user)
    await record(session, Event(Action.SECOND_FACTOR_ENROLLED, user.role, user_ref(user),
                                subject_ref=user_ref(user)))
    return CodeCheck.OK, codes


async def check_code(session: AsyncSession, instance_secret: bytes, user: User, code: str) -> CodeCheck:
    """A code from the app, or one of the recovery codes (used up by this)."""
    typed = "".join(code.split()).lower()
    if typed.isdigit() and len(typed) == 6:  # recovery codes have ten characters, digits only by rare chance
        secret = _open(instance_secret, user.totp_secret or "", f"totp:{user.id}")
        if secret is None:
            return CodeCheck.WRONG_CODE
        step = _matching_step(secret, typed, None)
        if step is None:
            return CodeCheck.WRONG_CODE
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return CodeCheck.REPLAYED
        user.totp_last_step = step
        return CodeCheck.OK
    digest = _recovery_hash(instance_secret, typed.replace("-", ""))
    row = await session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None)))
    if row is None:
        return CodeCheck.WRONG_CODE
    row.used_at = utcnow()
    return CodeCheck.RECOVERY_USED


async def recovery_codes_left(session: AsyncSession, user: User) -> int:
    rows = await session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                               RecoveryCode.used_at.is_(None)))
    return len(rows.all())


async def renew_recovery_codes(session: AsyncSession, instance_secret: bytes, user: User) -> list[str]:
    codes = await _new_recovery_codes(session, instance_secret, user)
    await record(session, Event(Action.RECOVERY_CODES_RENEWED, user.role, user_ref(user),
                                subject_ref=user_ref(user)))
    return codes


async def reset_second_factor(session: AsyncSession, user: User, by: User | None) -> None:
    """An admin (or the operator with the CLI: `by` None) switches a user's second factor off (a lost phone):
    the user enrols again at the next sign-in if their role requires it. Their sessions end, as after a
    password reset."""
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    await record(session, Event(Action.SECOND_FACTOR_RESET, by.role if by else "system", user_ref(by),
                                subject_ref=user_ref(user)))


class SwitchOff(enum.StrEnum):
    """The answer to a user who switches their own second factor off."""
    DONE = "done"
    REQUIRED = "required_for_role"  # `[security] require_second_factor` names the user's role
    NOT_ENROLLED = "not_enrolled"
    NO_PROOF = "no_proof"  # neither the current password nor a current code was right

    @property
    def description(self) -> str:
        return {SwitchOff.DONE: "the second factor is off, its secret and recovery codes deleted",
                SwitchOff.REQUIRED: "the configuration requires a second factor for the user's role",
                SwitchOff.NOT_ENROLLED: "the user has no second factor",
                SwitchOff.NO_PROOF: "neither the current password nor a current code was right"}[self]


async def switch_off(session: AsyncSession, instance_secret: bytes, config: Config, user: User, password: str,
                     code: str) -> SwitchOff:
    """The user's own switch: allowed where their role does not require a second factor, and only with the
    current password or a current code (a session left open must not be enough). Every outcome but
    NOT_ENROLLED is audited."""
    if not enrolled(user):
        return SwitchOff.NOT_ENROLLED
    proof = None
    if required(config, user):
        reason = SwitchOff.REQUIRED
    else:
        if password and check_password(user.password_hash, password):
            proof = "password"
        elif code.strip() and (await check_code(session, instance_secret, user, code)).ok:
            proof = "code"
        reason = SwitchOff.DONE if proof else SwitchOff.NO_PROOF
    if reason is SwitchOff.DONE:
        user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
        await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await record(session, Event(Action.SECOND_FACTOR_DISABLED, user.role, user_ref(user),
                                Outcome.OK if proof else Outcome.DENIED, subject_ref=user_ref(user),
                                reason=None if proof else str(reason), details={"proof": proof} if proof else {}))
    return reason


async def _new_recovery_codes(session: AsyncSession, instance_secret: bytes, user: User) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(instance_secret, c)) for c in codes)
    await session.flush()
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _matching_step(secret: str, code: str, now: float | None) -> int | None:
    """The time step whose code was typed, allowing one step either side for clocks that drift."""
    typed = "".join(code.split())
    if not typed.isdigit() or len(typed) != 6:
        return None
    totp, now = pyotp.TOTP(secret), now if now is not None else time.time()
    here = int(now // STEP)
    for step in (here, here - 1, here + 1):
        if hmac.compare_digest(totp.at(step * STEP), typed):
            return step
    return None


def _recovery_hash(instance_secret: bytes, code: str) -> str:
    return hmac.new(instance_secret, f"recovery\x00{code}".encode(), hashlib.sha256).hexdigest()


def _key(instance_secret: bytes) -> bytes:
    return hmac.new(instance_secret, b"second-factor\x00aes-gcm", hashlib.sha256).digest()


def _seal(instance_secret: bytes, text: str, purpose: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(instance_secret)).encrypt(nonce, text.encode(), purpose.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def _open(instance_secret: bytes, sealed: str, purpose: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
        return AESGCM(_key(instance_secret)).decrypt(raw[:12], raw[12:], purpose.encode()).decode()
    except (ValueError, InvalidTag, UnicodeError):
        return None


PENDING_SIGNIN_TTL = 5 * 60  # between the password and the code


def pending_signin(instance_secret: bytes, user: User, now: float | None = None) -> str:
    """What the code form carries between the two steps of a sign-in: the user, when, and a MAC that also
    covers the password hash, so the token dies with a password change. No session exists before the code."""
    stamp = int(now if now is not None else time.time())
    return f"{user.id}.{stamp}.{_pending_mac(instance_secret, user, stamp)}"


def pending_user_id(token: str) -> int | None:
    user_id, _, rest = token.partition(".")
    return int(user_id) if user_id.isdigit() and rest and len(user_id) < 12 else None


def pending_valid(instance_secret: bytes, token: str, user: User, now: float | None = None) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isascii():
        return False
    age = (now if now is not None else time.time()) - int(parts[1])
    if not 0 <= age <= PENDING_SIGNIN_TTL:
        return False
    return hmac.compare_digest(parts[2], _pending_mac(instance_secret, user, int(parts[1])))


def _pending_mac(instance_secret: bytes, user: User, stamp: int) -> str:
    message = f"second-step\x00{user.id}\x00{stamp}\x00{user.password_hash}".encode()
    return hmac.new(instance_secret, message, hashlib.sha256).hexdigest()
