"""Browser tests: the real application (web + worker) on a free local port, driven by Debian's Chromium."""

from __future__ import annotations

import os

import pytest
from playwright.async_api import async_playwright

from support.live import config, listening, port, sessions_beside  # noqa: F401  (fixtures)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
async def server(config, booted, port):
    """`stadtbote serve` in miniature: the app with its in-process worker, on the test's event loop."""
    async with listening(config, run_worker=True) as url:
        yield url


@pytest.fixture
async def sessions_for_server(config, server):
    async with sessions_beside(config) as makers:
        yield makers


@pytest.fixture
async def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
def requests_seen() -> list[str]:
    return []


@pytest.fixture
def open_browser(chromium, server, requests_seen):
    """`await open_browser()` gives a page in a fresh context (own cookies); every request is recorded."""
    async def make():
        context = await chromium.new_context(base_url=server, locale="en-GB")
        context.set_default_timeout(15_000)
        context.on("request", lambda request: requests_seen.append(request.url))
        return await context.new_page()
    return make
