"""TOTP by itself: one step of clock drift either way is accepted, two are not; a code counts once; the secret
is stored encrypted and an enrolment form cannot be moved to another user."""

from __future__ import annotations

import time

import pyotp
from sqlalchemy import select

from bridge.auth.totp import CodeCheck, check_code, confirm_enrolment, resume_enrolment, start_enrolment
from bridge.store.models import User

INSTANCE_SECRET = b"k" * 32


async def _enrolled(session, config, name: str = "admin") -> tuple[User, str]:
    user = await session.scalar(select(User).where(User.name == name))
    enrolment = start_enrolment(INSTANCE_SECRET, config, user)
    check, codes = await confirm_enrolment(session, INSTANCE_SECRET, user, enrolment,
                                           pyotp.TOTP(enrolment.secret).at(time.time() - 30))
    assert check is CodeCheck.OK and len(codes) == 10
    return user, enrolment.secret


async def test_drift_of_one_step_is_accepted_two_are_not_and_a_code_counts_once(sessions, config, booted):
    async with sessions.begin() as session:
        user, secret = await _enrolled(session, config)
        totp = pyotp.TOTP(secret)
        assert await check_code(session, INSTANCE_SECRET, user, totp.at(time.time() + 90)) is CodeCheck.WRONG_CODE
        assert await check_code(session, INSTANCE_SECRET, user, totp.at(time.time() - 30)) is CodeCheck.REPLAYED
        assert await check_code(session, INSTANCE_SECRET, user, totp.at(time.time() + 30)) is CodeCheck.OK
        assert await check_code(session, INSTANCE_SECRET, user, totp.at(time.time() + 30)) is CodeCheck.REPLAYED
        assert await check_code(session, INSTANCE_SECRET, user, "12 34 5") is CodeCheck.WRONG_CODE
        assert secret not in user.totp_secret
        # Under another instance secret (a database copied elsewhere) the stored secret opens nothing.
        assert await check_code(session, b"x" * 32, user, totp.at(time.time() + 60)) is CodeCheck.WRONG_CODE


async def test_an_enrolment_form_belongs_to_its_user_and_its_instance(sessions, config, booted):
    async with sessions.begin() as session:
        admin = await session.scalar(select(User).where(User.name == "admin"))
        enrolment = start_enrolment(INSTANCE_SECRET, config, admin)
        other = User(id=admin.id + 1000, name="x", role="editor", password_hash="")
        assert resume_enrolment(INSTANCE_SECRET, config, admin, enrolment.sealed).secret == enrolment.secret
        assert resume_enrolment(INSTANCE_SECRET, config, other, enrolment.sealed) is None
        assert resume_enrolment(b"x" * 32, config, admin, enrolment.sealed) is None
        assert resume_enrolment(INSTANCE_SECRET, config, admin, "not base64 at all!") is None
        assert enrolment.qr_svg().startswith("<svg") and "otpauth" not in enrolment.qr_svg()
