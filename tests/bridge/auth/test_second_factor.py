"""The second factor as a browser meets it: forced enrolment by QR code, the code step of the sign-in (also
on the way to an app's consent page), replayed and wrong codes, recovery codes, and the admin's reset."""

from __future__ import annotations

import re
import time
from html import unescape

import pyotp
import pytest
from sqlalchemy import select

from bridge.store.models import RecoveryCode, User
from consent.models import AuditEntry
from support.oauth import authorize_path, consent, redirect_params, register
from support.web import admin_ready, make_user, sign_in, signed_in, visitors  # noqa: F401

SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)</code>')
CODES = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


@pytest.fixture
def config(make_config):
    return make_config(security={"require_second_factor": ["admin", "dpo"]})


async def enrol(visitor, next_path: str = "") -> tuple[str, list[str]]:
    """Enrols through the page; returns the secret and the recovery codes."""
    page = await visitor.get("/second-factor" + (f"?next={next_path}" if next_path else ""))
    assert page.status == 200 and "<svg" in page.text and "Cache-Control" in page.headers
    secret = SECRET.search(page.text).group(1).replace(" ", "")
    wrong = await visitor.post("/second-factor", {"sealed": _sealed(page.text), "code": "000000",
                                                  "next": next_path})
    assert wrong.status == 422 and wrong.has("The code does not match.")
    assert SECRET.search(wrong.text).group(1).replace(" ", "") == secret  # the same QR code again
    done = await visitor.post("/second-factor", {"sealed": _sealed(wrong.text), "code": pyotp.TOTP(secret).now(),
                                                 "next": next_path})
    assert done.status == 200 and done.headers["Cache-Control"] == "private, no-store"
    return secret, CODES.findall(done.text)


def _sealed(text: str) -> str:
    return unescape(re.search(r'name="sealed" value="([^"]+)"', text).group(1))


def _pending(text: str) -> str:
    return unescape(re.search(r'name="pending" value="([^"]+)"', text).group(1))


async def _code_step(visitor, page, code: str, next_path: str = ""):
    return await visitor.post("/signin/code", {"pending": _pending(page.text), "code": code, "next": next_path})


async def test_an_admin_must_enrol_before_anything_else_and_gets_ten_recovery_codes(visitors, sessions, booted):
    admin_id = await admin_ready(sessions)
    admin = await signed_in(visitors(), sessions, admin_id)
    page = await admin.get("/admin/users")
    assert (page.status, page.location) == (303, "/second-factor?next=/admin/users")
    secret, codes = await enrol(admin, "/admin/users")
    assert len(codes) == 10 and len(set(codes)) == 10
    assert (await admin.get("/admin/users")).status == 200
    async with sessions() as session:
        user = await session.get(User, admin_id)
        hashes = (await session.scalars(select(RecoveryCode.code_hash))).all()
    assert secret not in (user.totp_secret or "") and user.totp_enabled_at is not None
    assert not any(c.replace("-", "") in h for c in codes for h in hashes)


async def test_an_editor_is_not_forced_but_may_enrol(visitors, sessions, booted):
    user_id, _ = await make_user(sessions, "erika")
    erika = await signed_in(visitors(), sessions, user_id)
    assert (await erika.get("/editor")).status == 200
    await enrol(erika)


async def test_sign_in_asks_the_code_before_any_session_and_a_code_counts_once(visitors, sessions, booted):
    user_id, password = await make_user(sessions, "erika")
    secret, _ = await enrol(await signed_in(visitors(), sessions, user_id))
    browser = visitors()
    page = await sign_in(browser, "erika", password)
    assert page.status == 200 and page.has("Code from your authenticator app") and not page.set_cookies
    wrong = await _code_step(browser, page, "123456")
    assert wrong.status == 401 and wrong.has("The code is wrong or was used already.")
    assert 'aria-describedby="code-hint code-problem"' in wrong.text
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step: the enrolment used this one already
    ok = await _code_step(browser, wrong, code)
    assert (ok.status, ok.location) == (303, "/editor") and ok.set_cookies
    again_browser = visitors()
    again = await _code_step(again_browser, await sign_in(again_browser, "erika", password), code)
    assert again.status == 401  # the same code a second time (someone watching) is refused
    async with sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all()
    assert "signin.second_factor" in actions and actions.count("signin.succeeded") == 1


async def test_a_recovery_code_signs_in_once(visitors, sessions, booted):
    user_id, password = await make_user(sessions, "erika")
    _, codes = await enrol(await signed_in(visitors(), sessions, user_id))
    browser = visitors()
    ok = await _code_step(browser, await sign_in(browser, "erika", password), codes[3].upper())
    assert ok.status == 303
    other = visitors()
    again = await _code_step(other, await sign_in(other, "erika", password), codes[3])
    assert again.status == 401
    assert (await browser.get("/second-factor")).has("You have 9 unused recovery codes.")


async def test_a_stale_or_forged_pending_token_starts_again(visitors, sessions, booted):
    user_id, password = await make_user(sessions, "erika")
    await enrol(await signed_in(visitors(), sessions, user_id))
    browser = visitors()
    await browser.get("/signin")
    forged = await browser.post("/signin/code", {"pending": f"{user_id}.{int(time.time())}.00", "code": "1"})
    old = await browser.post("/signin/code", {"pending": f"{user_id}.{int(time.time()) - 3600}.00", "code": "1"})
    junk = await browser.post("/signin/code", {"pending": "x", "code": "1"})
    for page in (forged, old, junk):
        assert page.status == 401 and page.has("The sign-in took too long. Sign in again.")


async def test_wrong_codes_count_against_the_sign_in_throttle(visitors, sessions, booted):
    user_id, password = await make_user(sessions, "erika")
    secret, _ = await enrol(await signed_in(visitors(), sessions, user_id))
    browser = visitors()
    page = await sign_in(browser, "erika", password)
    for _ in range(5):
        page = await _code_step(browser, page, "000000")
    blocked = await _code_step(browser, page, pyotp.TOTP(secret).at(time.time() + 30))
    assert blocked.status == 429 and blocked.has("Too many failed sign-ins.")


async def test_an_app_s_sign_in_also_asks_the_code_before_the_consent_page(client, visitors, sessions, booted):
    user_id, password = await make_user(sessions, "erika")
    secret, _ = await enrol(await signed_in(visitors(), sessions, user_id))
    app = await register(client)
    target = authorize_path(app)
    browser = visitors()
    first = await browser.get(target)
    assert first.status == 303 and first.location.startswith("/signin?next=")
    page = await sign_in(browser, "erika", password, next_path=target)
    assert page.status == 200 and page.has("Code from your authenticator app")
    assert (await browser.get(target)).status == 303  # still not signed in: no consent page without the code
    ok = await _code_step(browser, page, pyotp.TOTP(secret).at(time.time() + 30), target)
    assert (ok.status, ok.location) == (303, target)
    answer = await consent(browser, app)
    assert answer.status == 302 and redirect_params(answer.headers["Location"])["code"]


async def test_an_admin_resets_a_second_factor_audited_and_the_user_enrols_again(visitors, sessions, booted):
    admin_id = await admin_ready(sessions)
    dpo_id, password = await make_user(sessions, "dora", role="dpo", actors=())
    dora = await signed_in(visitors(), sessions, dpo_id)
    await enrol(dora)
    admin = await signed_in(visitors(), sessions, admin_id)
    await enrol(admin)
    page = await admin.get(f"/admin/users/{dpo_id}")
    assert page.has("Reset second factor")
    done = await admin.post(f"/admin/users/{dpo_id}/second-factor/reset")
    assert done.status == 303 and (await admin.get(done.location)).has("The second factor was reset.")
    assert (await dora.get("/dpo")).status == 303  # signed out
    async with sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "second_factor.reset"))
        assert (await session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == dpo_id))).all() == []
    assert (entry.actor_ref, entry.subject_ref) == (f"user:{admin_id}", f"user:{dpo_id}")
    browser = visitors()
    page = await sign_in(browser, "dora", password)
    assert (page.status, page.location) == (303, "/dpo")
    assert (await browser.get("/dpo")).location == "/second-factor?next=/dpo"
    assert (await admin.post(f"/admin/users/{admin_id}/second-factor/reset")).status == 409  # not oneself


async def test_the_admin_s_unblock_also_lifts_a_block_from_wrong_codes_and_is_audited(visitors, sessions, booted):
    user_id, password = await make_user(sessions, "erika")
    secret, _ = await enrol(await signed_in(visitors(), sessions, user_id))
    browser = visitors()
    page = await sign_in(browser, "erika", password)
    for _ in range(5):
        page = await _code_step(browser, page, "000000")
    admin_id = await admin_ready(sessions)
    admin = await signed_in(visitors(), sessions, admin_id)
    await enrol(admin)
    assert (await admin.get(f"/admin/users/{user_id}")).has("Lift the sign-in block")
    assert (await admin.post(f"/admin/users/{user_id}/unblock")).status == 303
    again = await sign_in(browser, "erika", password)
    ok = await _code_step(browser, again, pyotp.TOTP(secret).at(time.time() + 30))
    assert ok.status == 303
    async with sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "signin.unblocked"))
    assert (entry.actor_ref, entry.subject_ref) == (f"user:{admin_id}", f"user:{user_id}")


async def test_a_user_switches_their_own_second_factor_off_with_the_password_audited(visitors, sessions, booted):
    user_id, password = await make_user(sessions, "erika")
    erika = await signed_in(visitors(), sessions, user_id)
    await enrol(erika)
    page = await erika.get("/second-factor")
    assert page.has("Switch off the second factor") and 'action="/second-factor/off"' in page.text
    wrong = await erika.post("/second-factor/off", {"current": "not the password", "code": ""})
    assert wrong.status == 422 and wrong.has("Neither the password nor the code was right.")
    assert 'aria-describedby="off-problem"' in wrong.text
    done = await erika.post("/second-factor/off", {"current": password, "code": ""})
    assert (done.status, done.location) == (303, "/password?changed=second_factor_off")
    assert (await erika.get(done.location)).has("Your second factor is switched off.")
    async with sessions() as session:
        user = await session.get(User, user_id)
        left = (await session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id))).all()
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "second_factor.disabled")
                                         .order_by(AuditEntry.seq))).all()
    assert (user.totp_secret, user.totp_enabled_at, left) == (None, None, [])
    assert [(e.outcome, e.reason, e.details) for e in entries] == [
        ("denied", "no_proof", {}), ("ok", None, {"proof": "password"})]
    assert entries[1].actor_ref == entries[1].subject_ref == f"user:{user_id}"
    browser = visitors()
    assert (await sign_in(browser, "erika", password)).status == 303  # no code asked any more


async def test_a_current_code_also_switches_it_off_but_a_used_one_does_not(visitors, sessions, booted):
    user_id, _ = await make_user(sessions, "erika")
    erika = await signed_in(visitors(), sessions, user_id)
    secret, _ = await enrol(erika)
    used = pyotp.TOTP(secret).now()  # the enrolment took this step already
    assert (await erika.post("/second-factor/off", {"current": "", "code": used})).status == 422
    done = await erika.post("/second-factor/off", {"current": "", "code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert done.status == 303
    async with sessions() as session:
        assert (await session.get(User, user_id)).totp_enabled_at is None
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "second_factor.disabled",
                                                              AuditEntry.outcome == "ok"))
    assert entry.details == {"proof": "code"}


async def test_guessing_codes_to_switch_it_off_is_throttled_like_a_sign_in(visitors, sessions, booted):
    """A taken-over session must not try all million codes: wrong proofs count against the sign-in throttle."""
    user_id, password = await make_user(sessions, "erika")
    erika = await signed_in(visitors(), sessions, user_id)
    await enrol(erika)
    statuses = [(await erika.post("/second-factor/off", {"current": "", "code": f"{n:06d}"})).status
                for n in range(6)]
    assert statuses == [422] * 5 + [429]
    blocked = await erika.post("/second-factor/off", {"current": password, "code": ""})
    assert blocked.status == 429 and blocked.has("Too many failed sign-ins. Wait 15 minutes")
    async with sessions() as session:
        assert (await session.get(User, user_id)).totp_enabled_at is not None
    assert (await sign_in(visitors(), "erika", password)).status == 429  # the same throttle as signing in


async def test_a_role_that_requires_the_second_factor_cannot_switch_it_off_and_is_told_why_in_german(
        visitors, sessions, booted):
    dpo_id, password = await make_user(sessions, "dora", role="dpo", actors=())
    dora = await signed_in(visitors(), sessions, dpo_id)
    await enrol(dora)
    await dora.post("/language", {"language": "de"})
    page = await dora.get("/second-factor")
    assert page.has("Für Ihre Rolle (Datenschutzbeauftragte") and 'action="/second-factor/off"' not in page.text
    refused = await dora.post("/second-factor/off", {"current": password, "code": ""})
    assert refused.status == 409
    assert refused.has("ist ein zweiter Faktor vorgeschrieben; Sie können ihn deshalb nicht abschalten.")
    assert not refused.has("second factor")
    async with sessions() as session:
        assert (await session.get(User, dpo_id)).totp_enabled_at is not None
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "second_factor.disabled"))
    assert (entry.outcome, entry.reason) == ("denied", "required_for_role")
