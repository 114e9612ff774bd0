"""In Chromium, in German: an admin creates a user with an e-mail address (a wrong one comes back next to its
field, as typed) and the welcome mail a real SMTP server receives is German and carries no password; an
editor switches their own second factor off on the second-factor page, a wrong password first. Nothing is
fetched from anywhere but the server, and no English shows."""

from __future__ import annotations

import re

import pyotp
import pytest

from support.mail import mail_section, smtp  # noqa: F401  (fixture)
from test_signin_help_browser import PASSWORD, assert_fits, german_page, only_local, sign_in, staff

pytestmark = pytest.mark.browser
ENGLISH_MAIL = re.compile(r"\b(Hello|the|you|your|here|password|sign in)\b")


@pytest.fixture
def config(make_config, port, smtp):
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}",
                                 "language": "de"},
                       mail=mail_section(smtp.port), security={"require_second_factor": ["dpo"]})


async def test_an_admin_creates_a_user_with_an_address_and_the_welcome_mail_is_german(
        open_browser, server, sessions_for_server, smtp, requests_seen):
    await staff(sessions_for_server, "amelie", "admin")
    page = await german_page(open_browser, 1280)
    await sign_in(page, "amelie", PASSWORD)
    await page.wait_for_url(re.compile(r"/editor$"))
    await page.goto("/admin/users")
    await page.get_by_label("Benutzername", exact=True).fill("erika")
    await page.get_by_label("E-Mail-Adresse (freiwillig)").fill("erika at stadt")
    await page.get_by_role("checkbox", name="Stadt Teststadt (@stadt)").check()
    welcome = page.get_by_label("Der Person per E-Mail den Benutzernamen und die Anmeldeadresse mitteilen")
    assert await welcome.is_checked()
    # The browser's own check of type=email would stop a person here; the server's answer is what is tested.
    await page.locator("form[action='/admin/users']").evaluate("f => f.noValidate = true")
    await page.get_by_role("button", name="Benutzer anlegen").click()
    problem = page.locator("#email-problem")
    await problem.wait_for()
    assert await problem.inner_text() == "Das ist keine E-Mail-Adresse."
    assert await page.get_by_label("E-Mail-Adresse (freiwillig)").input_value() == "erika at stadt"
    assert await page.get_by_label("Benutzername", exact=True).input_value() == "erika"
    assert await page.get_by_role("checkbox", name="Stadt Teststadt (@stadt)").is_checked()
    await assert_fits(page)
    await page.get_by_label("E-Mail-Adresse (freiwillig)").fill("erika@stadt.test")
    await page.get_by_role("button", name="Benutzer anlegen").click()
    await page.get_by_text("Eine E-Mail nennt erika den Benutzernamen und wo die Anmeldung ist.").wait_for()
    password = await page.locator("#one-time-password").inner_text()
    await assert_fits(page)
    mail = (await smtp.wait_for(1))[0]
    assert mail.recipients == ["erika@stadt.test"] and mail.subject == "Ihr Zugang bei Stadt Teststadt"
    assert mail.plain().startswith("Guten Tag,") and not ENGLISH_MAIL.search(mail.plain())
    assert password not in mail.plain() and f"{server}/signin/forgot" in mail.links()
    only_local(requests_seen, server)


async def test_an_editor_switches_their_own_second_factor_off_with_the_password(
        open_browser, server, sessions_for_server, requests_seen):
    await staff(sessions_for_server, "erika", "editor")
    page = await german_page(open_browser, 390)
    await sign_in(page, "erika", PASSWORD)
    await page.wait_for_url(re.compile(r"/editor$"))
    await page.goto("/second-factor")
    secret = (await page.locator("#totp-secret").inner_text()).replace(" ", "")
    await page.get_by_label("Code aus Ihrer Authenticator-App").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Zweiten Faktor einschalten").click()
    await page.get_by_role("heading", name="Wiederherstellungscodes").wait_for()
    await page.goto("/second-factor")
    await page.get_by_role("heading", name="Zweiten Faktor abschalten").wait_for()
    await assert_fits(page)
    await page.get_by_label("Aktuelles Passwort").fill("falsch geraten")
    await page.get_by_role("button", name="Zweiten Faktor abschalten").click()
    problem = page.locator("#off-problem")
    await problem.wait_for()
    assert (await problem.inner_text()).startswith("Weder das Passwort noch der Code stimmte.")
    await assert_fits(page)
    await page.get_by_label("Aktuelles Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Zweiten Faktor abschalten").click()
    await page.wait_for_url(re.compile(r"/password\?changed=second_factor_off$"))
    await page.get_by_text("Ihr zweiter Faktor ist abgeschaltet.").wait_for()
    await assert_fits(page)
    again = await german_page(open_browser, 390)
    await sign_in(again, "erika", PASSWORD)
    await again.wait_for_url(re.compile(r"/editor$"))  # no code asked any more
    only_local(requests_seen, server)
