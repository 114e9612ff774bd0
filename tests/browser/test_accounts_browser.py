"""An admin creates the theatre's account and connects Mastodon and Threads accounts through their sign-in, in Chromium,
in German at desk and phone width; the new account answers WebFinger at once, in this process and another."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from bridge.app import create_app
from bridge.auth.users import create_user
from fakes.meta import FakeThreads
from fakes.platform_servers import FakeMastodon

pytestmark = pytest.mark.browser
DESK, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


async def german_admin(sessions) -> None:
    async with sessions.begin() as session:
        user, _ = await create_user(session, "anna", "admin", [], password="anna-passwort-123")
        user.must_change_password, user.language = False, "de"


async def signed_in_page(open_browser, size):
    page = await open_browser()
    await page.set_viewport_size(size)
    await page.goto("/signin")
    await page.get_by_label("User name").fill("anna")
    await page.get_by_label("Password").fill("anna-passwort-123")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/editor$"))
    return page


async def no_horizontal_scrollbar(page) -> bool:
    return await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("size", [DESK, PHONE], ids=["1280", "390"])
async def test_an_admin_creates_an_account_that_webfinger_finds_without_a_restart(
        open_browser, server, sessions_for_server, aiohttp_client, make_config, config, tmp_path, size):
    await german_admin(sessions_for_server)
    page = await signed_in_page(open_browser, size)
    await page.get_by_role("link", name="Konten").click()
    await page.wait_for_url(re.compile(r"/admin/accounts$"))
    assert await page.get_by_role("heading", name="Konto anlegen").is_visible()
    assert await no_horizontal_scrollbar(page)

    await page.get_by_label("Name (der Teil vor dem @; später nicht änderbar)").fill("Theater!")
    await page.get_by_label("Anzeigename").fill("Stadttheater")
    await page.get_by_role("button", name="Konto anlegen").click()
    problem = page.locator("#name-problem")
    assert await problem.inner_text() == "verwenden Sie 1 bis 30 Kleinbuchstaben, Ziffern oder Unterstriche"
    assert await page.get_by_label("Anzeigename").input_value() == "Stadttheater"  # kept as typed
    assert await no_horizontal_scrollbar(page)

    picture = tmp_path / "maske.png"
    Image.new("RGB", (800, 800), "purple").save(picture)
    await page.get_by_label("Name (der Teil vor dem @; später nicht änderbar)").fill("theater")
    await page.get_by_label("Beschreibung").fill("Spielplan, Karten und Neuigkeiten aus dem Stadttheater.")
    await page.get_by_label("Inhalt 1", exact=True).fill(  # a long web address must wrap on a phone
        "https://www.musterstadt.example/kultur/stadttheater/spielplan-und-kartenverkauf")
    await page.get_by_label("Profilbild (JPEG, PNG, WebP oder GIF)").set_input_files(str(picture))
    await page.get_by_role("button", name="Konto anlegen").click()
    await page.wait_for_url(re.compile(r"/admin/accounts/theater\?done=created"))
    assert await page.get_by_role("status").inner_text() == (
        "Das Konto wurde angelegt. Es ist ab sofort auffindbar und kann abonniert werden.")
    assert await no_horizontal_scrollbar(page)

    host = server.split("://", 1)[1]
    answer = await page.goto(f"/.well-known/webfinger?resource=acct:theater@{host}")
    assert answer.status == 200 and (await answer.json())["subject"] == f"acct:theater@{host}"
    other = await aiohttp_client(create_app(make_config(instance={"base_url": server}), run_worker=False))
    finger = await other.get("/.well-known/webfinger", params={"resource": f"acct:theater@{host}"})
    assert finger.status == 200  # another process, started before the account existed
    await page.goto("/@theater")
    assert await page.get_by_role("heading", name="Stadttheater").is_visible()
    assert await no_horizontal_scrollbar(page)
    avatar = await page.request.get("/avatars/theater.png")
    assert Image.open(io.BytesIO(await avatar.body())).size == (400, 400)


@pytest.mark.parametrize("size", [DESK, PHONE], ids=["1280", "390"])
async def test_an_admin_connects_mastodon_through_its_sign_in(open_browser, server, sessions_for_server,
                                                             aiohttp_server, size):
    fake = FakeMastodon("masto-token")
    platform = await aiohttp_server(fake.app())
    await german_admin(sessions_for_server)
    page = await signed_in_page(open_browser, size)
    await page.goto("/admin/platforms")
    await page.get_by_role("link", name="Mastodon").click()
    await page.wait_for_url(re.compile(r"/admin/platforms/connect\?kind=mastodon"))
    assert await page.get_by_role("heading", name="Mastodon verbinden").is_visible()
    assert await no_horizontal_scrollbar(page)
    await page.get_by_label("Kurzname dieses Kontos (erscheint im Beitragsformular)").fill("masto")
    api_base = str(platform.make_url("")).rstrip("/")
    await page.get_by_label("Adresse der Schnittstelle (API) der Plattform").fill(api_base)
    await page.get_by_role("button", name="Bei Mastodon anmelden").click()  # to the platform and back
    await page.wait_for_url(re.compile(r"/admin/platforms/oauth/callback\?"))
    assert await page.get_by_role("heading", name="Das Plattformkonto wurde verbunden").is_visible()
    assert fake.consent.authorized and fake.consent.exchanged[0]["code_verifier"]
    await page.get_by_role("link", name="Weiter zu den Plattformkonten").click()
    await page.wait_for_url(re.compile(r"/admin/platforms\?done=connected"))
    section = page.locator("#account-masto")
    assert await section.is_visible() and "masto-token" not in await page.content()
    await section.get_by_role("button", name="Jetzt prüfen").click()
    await page.wait_for_url(re.compile(r"/admin/platforms$"))
    assert "Reconnect" not in await page.locator("#account-masto").inner_text()
    assert await no_horizontal_scrollbar(page)


@pytest.mark.parametrize("size", [DESK, PHONE], ids=["1280", "390"])
async def test_an_admin_connects_threads_through_its_sign_in_after_one_declined(
        open_browser, server, sessions_for_server, aiohttp_server, size):
    fake = FakeThreads(user="2590000000001")
    platform = await aiohttp_server(fake.app())
    base = str(platform.make_url("")).rstrip("/")
    await german_admin(sessions_for_server)
    page = await signed_in_page(open_browser, size)

    async def sign_in() -> None:
        await page.goto("/admin/platforms/connect?kind=threads")
        assert await page.get_by_role("heading", name="Threads verbinden").is_visible()
        assert await no_horizontal_scrollbar(page)
        await page.get_by_label("Kurzname dieses Kontos (erscheint im Beitragsformular)").fill("threads")
        await page.get_by_label("Adresse der Schnittstelle (API) der Plattform").fill(f"{base}/v1.0")
        await page.get_by_label("Adresse der Anmeldeseite der Plattform (optional)").fill(f"{base}/oauth/authorize")
        await page.get_by_label("Client-ID", exact=True).fill("th-app")
        await page.get_by_label("Client-Geheimnis", exact=True).fill("th-secret")
        await page.get_by_role("button", name="Bei Threads anmelden").click()
        await page.wait_for_url(re.compile(r"/admin/platforms/oauth/callback\?"))

    fake.consent.deny = True  # the admin declines at Threads first
    await sign_in()
    assert await page.get_by_text("die Plattform hat die Anmeldung nicht bestätigt").is_visible()
    assert fake.consent.exchanged == [] and await no_horizontal_scrollbar(page)
    fake.consent.deny = False
    await sign_in()
    assert await page.get_by_role("heading", name="Das Plattformkonto wurde verbunden").is_visible()
    assert fake.long_lived_asked[0]["grant_type"] == "th_exchange_token"
    await page.get_by_role("link", name="Weiter zu den Plattformkonten").click()
    await page.wait_for_url(re.compile(r"/admin/platforms\?done=connected"))
    section = page.locator("#account-threads")
    assert await section.is_visible() and "th-secret" not in await page.content()
    await section.get_by_role("button", name="Jetzt prüfen").click()
    await page.wait_for_url(re.compile(r"/admin/platforms$"))
    checked = await page.locator("#account-threads").inner_text()
    assert "funktioniert" in checked and "Neu verbinden nötig" not in checked
    assert await no_horizontal_scrollbar(page)
