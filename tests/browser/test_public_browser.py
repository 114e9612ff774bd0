"""Readers' pages in a real browser: first-party requests only, nothing stored, headers, WCAG 2.1 AA (axe-core)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bridge.publishing import posts
from bridge.store.models import Role
from bridge.publishing.posts import Draft
from bridge.publishing.uploads import upload_image
from testkit import add_user

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations" \
          ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.html).slice(0, 3)}))"
PAGES = {"home": ("/", 200), "profile": ("/@stadt", 200), "post": (None, 200), "tag": ("/tags/sommer", 200),
         "privacy": ("/privacy", 200), "accessibility": ("/accessibility", 200), "not found": ("/@niemand", 404),
         "follow error": ("/@stadt/follow?instance=kein+server", 400)}

pytestmark = pytest.mark.browser


async def setup_posts(sessions, config, password_hash: str) -> int:
    """Two posts with a hashtag; the second has a content warning and an image with alt text."""
    async with sessions.begin() as s:
        user = await add_user(s, "erika", Role.EDITOR, ["stadt"], password_hash)
        await posts.create_post(s, config, user, Draft("stadt", "Das Sommerfest beginnt um 15 Uhr #Sommer"))
        image = io.BytesIO()
        Image.new("RGB", (60, 40), "teal").save(image, "PNG")
        upload = await upload_image(s, config, user, "stadt", image.getvalue(), alt="Ein leeres Becken in der Sonne")
        result = await posts.create_post(s, config, user, Draft(
            "stadt", "Das Freibad öffnet #Sommer https://stadt.example/bad", spoiler_text="Wasser noch kalt",
            media_ids=(upload.media.id,)))
        return result.post.id


@pytest.fixture
def axe_script() -> Path:
    if not AXE.is_file():
        pytest.skip(f"{AXE} is missing (npm install axe-core@4, as scripts/test.sh does)")
    return AXE


@pytest.mark.parametrize("name", list(PAGES))
async def test_a_public_page_is_first_party_only_stores_nothing_and_passes_axe(
        name, server, sessions_for_server, config, chromium, open_browser, requests_seen, axe_script,
        test_password_hash):
    post_id = await setup_posts(sessions_for_server, config, test_password_hash)
    path, status = PAGES[name]
    path = path or f"/@stadt/{post_id}"
    page = await open_browser()
    responses = []
    page.on("response", lambda r: responses.append(r))
    response = await page.goto(path)
    assert response.status == status
    headers = response.headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer" and headers["x-content-type-options"] == "nosniff"
    assert "camera=()" in headers["permissions-policy"]
    links = page.locator("main a >> visible=true")
    for index in range(await links.count()):
        await links.nth(index).hover()  # share links must not fetch anything before a click
    await page.mouse.wheel(0, 5000)
    await page.wait_for_load_state("networkidle")

    assert requests_seen and all(url.startswith(server + "/") for url in requests_seen), requests_seen
    assert not [r.url for r in responses if "set-cookie" in await r.all_headers()]
    assert await page.context.cookies() == []
    assert await page.evaluate("() => [localStorage.length, sessionStorage.length]") == [0, 0]
    assert await page.eval_on_selector_all("img", "els => els.filter(e => !e.hasAttribute('alt')).length") == 0
    assert await page.eval_on_selector_all("iframe, script[src], link[rel=preconnect], link[rel=dns-prefetch]",
                                           "els => els.length") == 0
    assert await page.evaluate("() => document.documentElement.lang") == "en"

    await page.context.close()
    assert await axe_violations(chromium, server + path, axe_script) == []


async def axe_violations(chromium, url: str, axe_script: Path) -> list[dict]:
    """axe-core in a context of its own: injecting it needs the page's CSP bypassed, which the context
    checked above must never have (it proves the CSP that readers get)."""
    context = await chromium.new_context(bypass_csp=True, locale="en-GB")
    page = await context.new_page()
    await page.goto(url)
    await page.add_script_tag(path=str(axe_script))
    violations = await page.evaluate(AXE_RUN, WCAG_TAGS)
    await context.close()
    return violations


async def test_the_content_warning_opens_without_javascript_and_shows_the_image(
        server, sessions_for_server, config, open_browser, test_password_hash):
    post_id = await setup_posts(sessions_for_server, config, test_password_hash)
    page = await open_browser()
    await page.goto(f"/@stadt/{post_id}")
    image = page.locator("details.cw img")
    assert not await image.is_visible()
    await page.locator("details.cw summary").click()
    assert await image.is_visible() and await image.get_attribute("alt") == "Ein leeres Becken in der Sonne"
    await page.context.close()
