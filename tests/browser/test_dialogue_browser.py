"""An editor at the dialogue desk in Chromium, in German, at a desktop and a phone width: finds the waiting
replies from the navigation, assigns one to a colleague, adds a Textbaustein, answers a platform reply with
it, and no page scrolls sideways."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import select

from bridge.app import create_app
from bridge.auth.users import create_user
from bridge.runtime.secrets import load_or_create_secret
from bridge.store.db import utcnow
from bridge.store.models import Actor, Post, PostState
from bridge.store.platforms import PlatformAnswer, PlatformSend
from browser_support import sign_in
from consent.platform_replies import store_platform_reply
from consent.vault import Vault
from support.mirroring import PLATFORMS

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)
SHOTS = os.environ.get("STADTBOTE_SCREENSHOTS")


@pytest.fixture
def config(make_config, port):
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}"},
                       platforms=PLATFORMS)


@pytest.fixture
async def server(config, booted, port):
    """Without the worker: the answer stays queued (the platforms here are not reachable)."""
    runner = web.AppRunner(create_app(config, run_worker=False))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield config.instance.base_url
    await runner.cleanup()


async def seed(sessions, config) -> None:
    vault = Vault.from_secret(load_or_create_secret(config.instance.data_dir))
    async with sessions.begin() as session:
        actor_id = await session.scalar(select(Actor.id).where(Actor.name == "stadt"))
        post = Post(actor_id=actor_id, state=PostState.PUBLISHED, text="Neue Öffnungszeiten im Bürgerbüro.",
                    language="de", mirrors=["masto", "tg"], published_at=utcnow())
        session.add(post)
        await session.flush()
        for platform_id in ("masto", "tg"):
            session.add(PlatformSend(post_id=post.id, platform_id=platform_id, state="sent", handle=platform_id,
                                     remote_id="100", remote_extra={}, attempts=1, sent_at=utcnow()))
        for n, (platform_id, kind, text) in enumerate((
                ("masto", "mastodon", "Gilt das auch am Samstag? " * 3),
                ("tg", "telegram", "Danke, sehr hilfreich – eineSehrLangeWortkette" + "x" * 60))):
            await store_platform_reply(session, vault, platform_kind=kind, platform_id=platform_id,
                                       author_id=f"{kind}:p{n}", reply_id=f"{kind}:r{n}", text=text, url=None,
                                       post_id=post.id, actor_name="stadt", retention=timedelta(days=180),
                                       now=utcnow() - timedelta(hours=5 - n))
        for name in ("erika", "bernd"):
            user, _ = await create_user(session, name, "editor", ["stadt"], password=f"{name}-passwort-123")
            user.must_change_password, user.language = False, "de"


async def overflow(page) -> int:
    return await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("width", WIDTHS)
async def test_an_editor_assigns_and_answers_at_the_dialogue_desk_in_german(width, chromium, server,
                                                                           sessions_for_server, config):
    await seed(sessions_for_server, config)
    context = await chromium.new_context(base_url=server, locale="de-DE", viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await sign_in(page, "erika", "erika-passwort-123")
    await page.get_by_role("link", name="Dialog", exact=True).click()
    await page.wait_for_url(re.compile(r"/editor/dialogue$"))
    assert await page.get_by_role("heading", name="Dialog", exact=True).count() == 1
    items = page.locator("li.dialogue-item")
    assert await items.count() == 2
    assert "Danke, sehr hilfreich" in await items.first.inner_text()  # the newest waiting first
    assert "Wartet seit" in await items.first.locator(".waiting").inner_text()
    assert await overflow(page) == 0
    if SHOTS:
        await page.screenshot(path=os.path.join(SHOTS, f"dialogue-{width}.png"), full_page=True)

    first = items.first
    await first.get_by_label("Bearbeitet von").select_option(label="bernd")
    await first.get_by_role("button", name="Zuweisen").click()
    await page.wait_for_url(re.compile(r"notice=assigned"))
    assert "Die Antwort wurde zugewiesen." in await page.locator(".notice").inner_text()

    await page.get_by_label("Titel").fill("Öffnungszeiten")
    await page.get_by_label("Text", exact=True).fill("{konto} antwortet: Details unter {beitrag}")
    await page.get_by_role("button", name="Textbaustein hinzufügen").click()
    await page.wait_for_url(re.compile(r"notice=template_added"))

    masto = page.locator("li.dialogue-item", has_text="Gilt das auch am Samstag?")
    await masto.get_by_role("link", name="Antworten").click()
    await page.wait_for_url(re.compile(r"/answer$"))
    await page.get_by_role("link", name="Öffnungszeiten").click()
    answer = page.get_by_label("Ihre Antwort")
    assert (await answer.input_value()).startswith("Stadt Teststadt antwortet: Details unter http")
    assert await overflow(page) == 0
    await page.get_by_role("button", name="Antwort auf der Plattform senden").click()
    await page.wait_for_url(re.compile(r"sent=1"))
    assert "wird gesendet" in await page.locator("li.answer").inner_text()
    assert await overflow(page) == 0
    if SHOTS:
        await page.screenshot(path=os.path.join(SHOTS, f"dialogue-answer-{width}.png"), full_page=True)
    async with sessions_for_server() as session:
        row = await session.scalar(select(PlatformAnswer))
    assert row.platform_id == "masto" and row.state == "queued"
    await context.close()
