"""The compose form's "Preview per platform" button, clicked in Chromium with platforms configured, at a
desktop and a phone width: the preview opens (no error page) and no page scrolls sideways."""

from __future__ import annotations

import os
import re

import pytest
from aiohttp import web
from sqlalchemy import select

from bridge.app import create_app
from bridge.auth.users import create_user
from bridge.publishing import posts
from bridge.store.platforms import PlatformSend
from browser_support import sign_in
from support.mirroring import PLATFORMS

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)
SHOTS = os.environ.get("STADTBOTE_SCREENSHOTS")  # a folder: screenshots to look at


@pytest.fixture
def config(make_config, port):
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}"},
                       platforms=PLATFORMS)


@pytest.fixture
async def server(config, booted, port):
    """Without the worker: the preview asks no platform, and the platforms here are not reachable."""
    runner = web.AppRunner(create_app(config, run_worker=False))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield config.instance.base_url
    await runner.cleanup()


async def overflow(page) -> int:
    """How far the page is wider than the window (0: no horizontal scrollbar)."""
    return await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_preview_per_platform_opens_and_fits_the_window(width, chromium, server, sessions_for_server):
    async with sessions_for_server.begin() as session:
        user, _ = await create_user(session, "erika", "editor", ["stadt"], password="erika-passwort-123")
        user.must_change_password = False
    context = await chromium.new_context(base_url=server, locale="en-GB", viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await sign_in(page, "erika", "erika-passwort-123")
    await page.get_by_role("link", name="New post").click()
    await page.get_by_label("Text", exact=True).fill(
        "Der Wochenmarkt zieht um: ab Samstag auf dem #Rathausplatz. " * 6 + "https://stadt.example/markt")
    await page.get_by_label(re.compile(r"^bsky \(bluesky")).check()
    await page.get_by_label(re.compile(r"^tg \(telegram")).check()
    assert await overflow(page) == 0
    async with context.expect_page() as opened:
        await page.get_by_role("button", name="Preview per platform").click()
    preview = await opened.value
    await preview.wait_for_load_state()
    if SHOTS:
        await preview.screenshot(path=os.path.join(SHOTS, f"preview-{width}.png"), full_page=True)
    assert await preview.get_by_role("heading", name="Preview per platform").count() == 1
    assert await preview.locator("#preview-bsky").count() == 1 and await preview.locator("#preview-tg").count() == 1
    assert await preview.locator("#preview-masto").count() == 0
    assert "Wochenmarkt" in await preview.locator("#preview-bsky .mirror-text").input_value()
    assert await overflow(preview) == 0
    await context.close()


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_send_status_pages_fit_the_window(width, chromium, server, sessions_for_server, config):
    """The post's platform page, the dashboard and the admin's platform accounts, with sends in several states."""
    async with sessions_for_server.begin() as session:
        user, _ = await create_user(session, "ida", "admin", ["stadt"], password="ida-passwort-1234")
        user.must_change_password = False
        draft = posts.Draft("stadt", "Der Wochenmarkt zieht um. " * 4, mirrors=("bsky", "masto", "tg"))
        post = (await posts.create_post(session, config, user, draft)).post
        rows = (await session.scalars(select(PlatformSend))).all()
        rows[0].reason, rows[0].detail = "connection_failed", "Cannot connect to host api.example:443 ssl:default"
    context = await chromium.new_context(base_url=server, locale="en-GB", viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await sign_in(page, "ida", "ida-passwort-1234")
    for path in ("/editor", f"/editor/posts/{post.id}/mirrors", "/admin/platforms"):
        await page.goto(path)
        if SHOTS:
            name = path.strip("/").replace("/", "-")
            await page.screenshot(path=os.path.join(SHOTS, f"{name}-{width}.png"), full_page=True)
        assert await page.locator(".send-state").count() >= 1, path
        assert await overflow(page) == 0, path
    await context.close()
