"""An editor attaches a photo far larger than anything the server accepts: the form comes back as typed."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from bridge.store.models import Media, Post
from bridge.auth.users import create_user
from browser_support import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def config(make_config, port):
    """Small limits, so that a few megabytes are beyond aiohttp's whole-body limit (images + 1 MB)."""
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}"},
                       limits={"max_image_bytes": 200_000, "max_images": 1})


async def test_an_oversized_photo_costs_the_photo_not_the_text(open_browser, server, sessions_for_server, tmp_path):
    async with sessions_for_server.begin() as session:
        user, _ = await create_user(session, "erika", "editor", ["stadt"], password="erika-passwort-123")
        user.must_change_password = False
    page = await open_browser()
    await sign_in(page, "erika", "erika-passwort-123")
    await page.get_by_role("link", name="New post").click()
    text = "Die Brücke am Stadthafen ist ab Montag gesperrt. Umleitung über die Kaistraße."
    await page.get_by_label("Text", exact=True).fill(text)
    photo = tmp_path / "IMG_4032.jpg"
    photo.write_bytes(random.Random(5).randbytes(2_500_000))  # as a phone's full-size photo might be
    await page.get_by_label("Image file 1").set_input_files(str(photo))
    await page.get_by_label("Alt text for image 1").fill("Die gesperrte Brücke")
    await page.get_by_role("button", name="Publish").click()

    problem = page.locator("#image0-problem")  # beside the field (and in the summary at the top)
    await problem.wait_for()
    assert await problem.inner_text() == "Image 1 is larger than the limit of 195 KB."
    assert await page.get_by_label("Text", exact=True).input_value() == text
    assert await page.get_by_label("Alt text for image 1").input_value() == "Die gesperrte Brücke"
    async with sessions_for_server() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 0
        assert await session.scalar(select(func.count()).select_from(Media)) == 0
