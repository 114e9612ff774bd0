"""In Chromium, in German, at a desktop width and at a phone's: "Passwort vergessen" with the link opened from
the mail a real SMTP server received; the forced enrolment of a second factor by QR code (codes computed with
pyotp, as a phone would), signing in with a code and with a recovery code. No page scrolls sideways, and
nothing is fetched from anywhere but the server."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from bridge.auth.users import create_user
from support.mail import mail_section, smtp  # noqa: F401  (fixture)
from layout_support import problems_with_the_words, visible_text_script
from test_approval_browser import assert_fits as assert_wide_enough

pytestmark = pytest.mark.browser
WIDTHS = [pytest.param(1280, id="desktop"), pytest.param(390, id="phone")]
PASSWORD = "amelies-passwort-123"


@pytest.fixture
def config(make_config, port, smtp):
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}",
                                 "language": "de"},
                       mail=mail_section(smtp.port), security={"require_second_factor": ["admin"]})


async def staff(sessions, name: str, role: str, email: str | None = None) -> None:
    async with sessions.begin() as session:
        user, _ = await create_user(session, name, role, ["stadt"], password=PASSWORD)
        user.must_change_password, user.email = False, email


async def german_page(open_browser, width: int):
    page = await open_browser()
    await page.set_viewport_size({"width": width, "height": 900})
    return page


async def sign_in(page, name: str, password: str) -> None:
    await page.goto("/signin")
    assert await page.locator("html").get_attribute("lang") == "de"
    await page.get_by_label("Benutzername").fill(name)
    await page.get_by_label("Passwort", exact=True).fill(password)
    await page.get_by_role("button", name="Anmelden").click()


async def assert_fits(page) -> None:
    """No sideways scrolling, and German throughout: no English words, no raw codes."""
    await assert_wide_enough(page)
    assert problems_with_the_words(await page.evaluate(visible_text_script())) == [], page.url


def only_local(requests_seen: list[str], server: str) -> None:
    assert [u for u in requests_seen if not u.startswith(server)] == []


@pytest.mark.parametrize("width", WIDTHS)
async def test_a_forgotten_password_is_set_again_through_the_link_in_the_mail(
        open_browser, server, sessions_for_server, smtp, requests_seen, width):
    await staff(sessions_for_server, "erika", "editor", "erika@stadt.test")
    page = await german_page(open_browser, width)
    await page.goto("/signin")
    await page.get_by_role("link", name="Passwort vergessen?").click()
    await assert_fits(page)
    await page.get_by_label("Benutzername oder E-Mail-Adresse").fill("erika@stadt.test")
    await page.get_by_role("button", name="Link senden").click()
    await page.get_by_text("ist ein Link zum Festlegen eines neuen Passworts unterwegs").wait_for()
    mail = (await smtp.wait_for(1))[0]
    assert mail.subject == "Neues Passwort für Stadt Teststadt" and mail.recipients == ["erika@stadt.test"]
    link = next(u for u in mail.links() if "/signin/reset/" in u)
    await page.goto(link)
    await assert_fits(page)
    await page.get_by_label("Neues Passwort", exact=True).fill("ein ganz neues Passwort")
    await page.get_by_label("Neues Passwort wiederholen").fill("ein anderes Passwort!!")
    await page.get_by_role("button", name="Passwort festlegen").click()
    problem = page.locator("#repeat-problem")
    await problem.wait_for()
    assert await problem.inner_text() == "die beiden Passwörter unterscheiden sich"
    await assert_fits(page)
    await page.get_by_label("Neues Passwort", exact=True).fill("ein ganz neues Passwort")
    await page.get_by_label("Neues Passwort wiederholen").fill("ein ganz neues Passwort")
    await page.get_by_role("button", name="Passwort festlegen").click()
    await page.get_by_text("Ihr neues Passwort ist festgelegt.").wait_for()
    await sign_in(page, "erika", "ein ganz neues Passwort")
    await page.wait_for_url(re.compile(r"/editor$"))
    await page.goto(link)  # the link worked once
    await page.get_by_text("Dieser Link wurde schon verwendet oder ist abgelaufen.").wait_for()
    only_local(requests_seen, server)


@pytest.mark.parametrize("width", WIDTHS)
async def test_an_admin_enrols_a_second_factor_and_signs_in_with_a_code_and_a_recovery_code(
        open_browser, server, sessions_for_server, requests_seen, width):
    await staff(sessions_for_server, "amelie", "admin")
    page = await german_page(open_browser, width)
    await sign_in(page, "amelie", PASSWORD)
    await page.wait_for_url(re.compile(r"/second-factor\?next="))
    await page.get_by_text("Ihre Rolle verlangt einen zweiten Faktor.").wait_for()
    assert await page.locator("figure.qr svg").is_visible()
    await assert_fits(page)
    secret = (await page.locator("#totp-secret").inner_text()).replace(" ", "")
    await page.get_by_label("Code aus Ihrer Authenticator-App").fill("000000")
    await page.get_by_role("button", name="Zweiten Faktor einschalten").click()
    await page.locator("#code-problem").wait_for()
    assert (await page.locator("#totp-secret").inner_text()).replace(" ", "") == secret  # same QR code kept
    await page.get_by_label("Code aus Ihrer Authenticator-App").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Zweiten Faktor einschalten").click()
    await page.get_by_role("heading", name="Wiederherstellungscodes").wait_for()
    codes = await page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    await assert_fits(page)
    await page.get_by_role("link", name="Weiter").click()
    await page.wait_for_url(re.compile(r"/editor$"))

    again = await german_page(open_browser, width)
    await sign_in(again, "amelie", PASSWORD)
    await again.get_by_label("Code aus Ihrer Authenticator-App").fill(pyotp.TOTP(secret).at(time.time() + 30))
    await assert_fits(again)
    await again.get_by_role("button", name="Bestätigen").click()
    await again.wait_for_url(re.compile(r"/editor$"))

    without_phone = await german_page(open_browser, width)
    await sign_in(without_phone, "amelie", PASSWORD)
    await without_phone.get_by_label("Code aus Ihrer Authenticator-App").fill(codes[0])
    await without_phone.get_by_role("button", name="Bestätigen").click()
    await without_phone.wait_for_url(re.compile(r"/editor$"))
    await without_phone.goto("/second-factor")
    await without_phone.get_by_text("Sie haben 9 unbenutzte Wiederherstellungscodes.").wait_for()
    only_local(requests_seen, server)
