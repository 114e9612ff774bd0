"""A reader follows a warning in a real browser: the worker polls the fake BBK source on its own, the warning
appears on /warnings in German, the permalink shows the CAP fields; at 1280 and 390 px, without horizontal
scrolling and with first-party requests only."""

from __future__ import annotations

import asyncio

import pytest

from fakes.warnings import WarningSources

pytestmark = pytest.mark.browser
NO_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
async def sources(aiohttp_server) -> WarningSources:
    fake = WarningSources()
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url("")).rstrip("/")
    fake.show("nina", "nina_storm_1.json")
    return fake


@pytest.fixture
def config(make_config, port, sources):
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}",
                                 "language": "de"},
                       warnings=[{"id": "nina", "kind": "nina", "api_base": f"{sources.base}/nina",
                                  "actors": ["stadt"], "ars": "040120000000", "timeout": 5}])


@pytest.mark.parametrize("width", [1280, 390])
async def test_a_reader_finds_the_current_warning_and_its_details(width, server, chromium, requests_seen):
    context = await chromium.new_context(base_url=server, locale="de-DE", viewport={"width": width, "height": 900})
    context.on("request", lambda request: requests_seen.append(request.url))
    page = await context.new_page()
    for _ in range(60):  # the worker's first poll runs when it starts
        await page.goto("/warnings")
        if await page.get_by_role("link", name="Sturmflut an der Wesermündung – Bremerhaven").count():
            break
        await asyncio.sleep(0.5)
    assert await page.get_by_role("heading", name="Aktuelle Warnungen").is_visible()
    assert await page.evaluate(NO_SCROLL)
    await page.get_by_role("link", name="Sturmflut an der Wesermündung – Bremerhaven").click()
    assert await page.get_by_role("heading", name="Handlungsempfehlungen").is_visible()
    details = await page.locator("dl.cap-fields").inner_text()
    for shown in ("Ereignis", "Sturmflut", "Schwere", "schwer", "Gültig bis", "Seestadt Bremerhaven – Feuerwehr"):
        assert shown in details
    assert await page.evaluate(NO_SCROLL)
    await page.get_by_role("link", name="Diese Warnung als CAP-1.2-Dokument").is_visible()
    assert all(url.startswith(server) for url in requests_seen)
    await context.close()
