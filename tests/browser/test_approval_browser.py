"""In Chromium, at a desktop width and at a phone's: the compose form with several mistakes shows them all
and keeps what was typed; a second editor approves a post; an edit of the published post waits for
approval while the public page keeps the approved text. No page may scroll sideways."""

from __future__ import annotations

import re

import pytest

from bridge.auth.users import create_user
from browser_support import sign_in

pytestmark = pytest.mark.browser
WIDTHS = [pytest.param(1280, id="desktop"), pytest.param(390, id="phone")]
OLD = "Probealarm der Sirenen am Mittwoch um 11 Uhr."
NEW = "Probealarm der Sirenen am Donnerstag um 11 Uhr."


async def assert_fits(page) -> None:
    """A horizontal scrollbar means something does not fit the window."""
    scroll, client = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"{page.url} is {scroll} px wide in a {client} px window"


async def browser_at(open_browser, width: int):
    page = await open_browser()
    await page.set_viewport_size({"width": width, "height": 900})
    return page


async def editors(sessions, *names: str) -> None:
    async with sessions.begin() as session:
        for name in names:
            user, _ = await create_user(session, name, "editor", ["stadt", "feuerwehr"],
                                        password=f"{name}-passwort-123")
            user.must_change_password = False


async def signed_in(open_browser, width: int, name: str):
    page = await browser_at(open_browser, width)
    await sign_in(page, name, f"{name}-passwort-123")
    await assert_fits(page)
    return page


@pytest.mark.parametrize("width", WIDTHS)
async def test_a_form_with_several_mistakes_shows_them_all_and_keeps_the_text(
        open_browser, server, sessions_for_server, tmp_path, width):
    await editors(sessions_for_server, "erika")
    page = await signed_in(open_browser, width, "erika")
    await page.get_by_role("link", name="New post").click()
    await assert_fits(page)
    text = "Sperrung der Hauptstraße ab Montag. " + "Umleitung über die Kaistraße. " * 17
    await page.get_by_label("Content warning (optional)").fill("Verkehr")
    await page.get_by_label("Text", exact=True).fill(text)
    await page.get_by_label("Publish at (optional)").fill("2020-01-01T10:00")
    await page.get_by_role("button", name="Publish").click()

    await page.locator("#publish_at-problem").wait_for()
    assert "at most 500 are allowed" in await page.locator("#text-problem").inner_text()
    assert "must be in the future" in await page.locator("#publish_at-problem").inner_text()
    assert await page.locator(".problems li").count() == 2  # the summary names both
    assert await page.get_by_label("Text", exact=True).input_value() == text.replace("\r\n", "\n")
    assert await page.get_by_label("Content warning (optional)").input_value() == "Verkehr"
    assert await page.get_by_label("Publish at (optional)").input_value() == "2020-01-01T10:00"
    await assert_fits(page)
    await page.screenshot(path=str(tmp_path / f"compose-problems-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
async def test_an_edit_after_approval_waits_and_the_public_page_keeps_the_approved_text(
        open_browser, server, sessions_for_server, tmp_path, width):
    await editors(sessions_for_server, "anna", "bernd")
    anna = await signed_in(open_browser, width, "anna")
    await anna.get_by_role("link", name="New post").click()
    await anna.get_by_label("Account").select_option("feuerwehr")
    await anna.get_by_label("Text", exact=True).fill(OLD)
    await anna.get_by_role("button", name="Publish").click()
    await anna.wait_for_url(re.compile(r"/editor/posts/\d+$"))
    post_url, post_id = anna.url, anna.url.rsplit("/", 1)[1]

    bernd = await signed_in(open_browser, width, "bernd")
    await bernd.get_by_role("link", name=OLD).click()
    await bernd.get_by_role("button", name="Approve and publish").click()
    await bernd.wait_for_url(post_url)
    assert "Published" in await bernd.locator("#post-state").inner_text()

    await anna.goto(post_url + "/edit")
    await assert_fits(anna)
    await anna.get_by_label("Text", exact=True).fill(NEW)
    await anna.get_by_role("button", name="Save changes").click()
    await anna.wait_for_url(post_url)
    assert "Edit awaiting approval" in await anna.locator("#post-state").inner_text()
    assert await anna.get_by_role("button", name="Approve and publish the edit").count() == 0
    await assert_fits(anna)

    public = await browser_at(open_browser, width)
    await public.goto(f"/@feuerwehr/{post_id}")
    body = await public.locator("body").inner_text()
    assert "Mittwoch" in body and "Donnerstag" not in body
    await assert_fits(public)

    await bernd.goto("/editor")
    await assert_fits(bernd)  # the queue lists the edit
    await bernd.get_by_role("link", name=NEW).click()
    assert await bernd.locator("#edit-diff del").inner_text() == "Mittwoch"
    assert await bernd.locator("#edit-diff ins").inner_text() == "Donnerstag"
    await assert_fits(bernd)
    await bernd.screenshot(path=str(tmp_path / f"edit-review-{width}.png"), full_page=True)
    await bernd.get_by_role("button", name="Approve and publish the edit").click()
    await bernd.wait_for_url(post_url)
    assert await bernd.locator("#edit-state").count() == 0

    await public.reload()
    body = await public.locator("body").inner_text()
    assert "Donnerstag" in body and "Mittwoch" not in body
    await anna.goto("/editor/actors/feuerwehr")
    await assert_fits(anna)
