"""Browser tests: the real application (web + worker) on a free local port, driven by Debian's Chromium."""

from __future__ import annotations

import os
import socket

import pytest
from aiohttp import web
from playwright.async_api import async_playwright

from bridge.app import create_app
from bridge.store.db import create_engine, create_sessionmaker

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def config(make_config, port):
    """The shared config, but with the address the server really listens on (links and origins match)."""
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}"})


@pytest.fixture
async def server(config, booted, port):
    """`stadtbote serve` in miniature: the app with its in-process worker, on the test's event loop."""
    runner = web.AppRunner(create_app(config, run_worker=True))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield config.instance.base_url
    await runner.cleanup()


@pytest.fixture
async def sessions_for_server(config, server):
    """Database sessions beside the running server, for setting up users without clicking."""
    engine = create_engine(config.database.url)
    yield create_sessionmaker(engine)
    await engine.dispose()


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
