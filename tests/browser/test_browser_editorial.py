"""A person at a browser: first admin, new editor, a post with an image; and the four-eyes path."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from bridge.auth.users import create_user
from browser_support import sign_in

pytestmark = pytest.mark.browser
NEW_ADMIN_PASSWORD = "Rathaus-Schluessel-2024"


async def change_password(page, current: str, new: str) -> None:
    await page.wait_for_url(re.compile(r"/password$"))
    await page.get_by_label("Current password").fill(current)
    await page.get_by_label("New password", exact=True).fill(new)
    await page.get_by_label("Repeat the new password").fill(new)
    await page.get_by_role("button", name="Change password").click()
    await page.wait_for_url(re.compile(r"/editor$"))


async def state_of(page) -> str:
    return " ".join((await page.locator("#post-state").inner_text()).split())


def assert_same_origin(requests: list[str], origin: str) -> None:
    assert requests, "no requests were recorded"
    foreign = [url for url in requests if not url.startswith(origin + "/")]
    assert foreign == []


async def test_first_admin_creates_an_editor_who_publishes_a_post_with_an_image(
        open_browser, server, booted, requests_seen, tmp_path):
    admin = await open_browser()
    await sign_in(admin, "admin", booted.admin_password, landing=None)
    await change_password(admin, booted.admin_password, NEW_ADMIN_PASSWORD)
    await admin.get_by_role("link", name="Users").click()
    await admin.get_by_label("User name").fill("erika")
    await admin.get_by_label("Role").select_option("editor")
    await admin.get_by_label("Stadt Teststadt (@stadt)").check()
    await admin.get_by_role("button", name="Create user").click()
    one_time = (await admin.locator("#one-time-password").inner_text()).strip()
    assert len(one_time) >= 12
    await admin.get_by_role("button", name="Sign out").click()
    await admin.wait_for_url(re.compile(r"/signin$"))

    await sign_in(admin, "erika", one_time, landing=None)
    await change_password(admin, one_time, "Erikas-eigenes-Passwort")
    await admin.get_by_role("link", name="New post").click()
    await admin.get_by_label("Account").select_option("stadt")
    await admin.get_by_label("Text", exact=True).fill("Der Wochenmarkt zieht um: ab Samstag auf dem #Rathausplatz.")
    picture = tmp_path / "markt.png"
    Image.new("RGB", (64, 48), (30, 120, 60)).save(picture)
    await admin.get_by_label("Image file 1").set_input_files(str(picture))
    await admin.get_by_label("Alt text for image 1").fill("Marktstände mit Gemüse vor dem Rathaus")
    await admin.get_by_role("button", name="Publish").click()
    await admin.wait_for_url(re.compile(r"/editor/posts/\d+$"))

    assert await state_of(admin) == "Published"
    assert "Der Wochenmarkt zieht um" in await admin.locator("article.post").inner_text()
    image = admin.get_by_role("img", name="Marktstände mit Gemüse vor dem Rathaus")
    await image.wait_for()
    assert await image.evaluate("img => img.complete && img.naturalWidth") == 64
    assert_same_origin(requests_seen, server)


async def test_a_fire_brigade_post_waits_for_a_second_editor(open_browser, server, sessions_for_server,
                                                              requests_seen):
    async with sessions_for_server.begin() as session:
        for name in ("anna", "bernd"):
            user, _ = await create_user(session, name, "editor", ["feuerwehr"], password=f"{name}-passwort-123")
            user.must_change_password = False

    anna = await open_browser()
    await sign_in(anna, "anna", "anna-passwort-123")
    await anna.get_by_role("link", name="New post").click()
    await anna.get_by_label("Account").select_option("feuerwehr")
    await anna.get_by_label("Text", exact=True).fill("Probealarm der Sirenen am Mittwoch um 11 Uhr.")
    await anna.get_by_role("button", name="Publish").click()
    await anna.wait_for_url(re.compile(r"/editor/posts/\d+$"))
    post_url = anna.url
    assert await state_of(anna) == "Awaiting approval"
    assert await anna.get_by_role("button", name="Approve and publish").count() == 0

    bernd = await open_browser()
    await sign_in(bernd, "bernd", "bernd-passwort-123")
    await bernd.get_by_role("link", name="Probealarm der Sirenen am Mittwoch um 11 Uhr.").click()
    assert bernd.url == post_url
    await bernd.get_by_role("button", name="Approve and publish").click()
    await bernd.wait_for_url(post_url)
    assert await state_of(bernd) == "Published"
    assert "bernd" in await bernd.locator("#approved-by").inner_text()

    await anna.reload()
    assert await state_of(anna) == "Published"
    assert_same_origin(requests_seen, server)
