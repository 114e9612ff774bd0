"""An editor in German, at a desktop and a phone width, attaches a video without captions: the form comes back
saying that the video is being processed (by the server's worker) and that captions are missing, with the
video kept; once processed and with a WebVTT file added the post is published and readers' page plays it with
the captions track. No page scrolls sideways."""

from __future__ import annotations

import asyncio
import os
import re

import pytest
from sqlalchemy import select

from bridge.auth.users import create_user
from bridge.store.models import Media, MediaState, Post, PostState
from browser_support import sign_in
from support.videos import CAPTIONS, mp4_clip

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)
SHOTS = os.environ.get("STADTBOTE_SCREENSHOTS")


@pytest.fixture
def config(make_config, port):
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}"},
                       limits={"video": True, "video_max_seconds": 30})


async def overflow(page) -> int:
    return await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("width", WIDTHS)
async def test_a_video_is_refused_without_captions_and_published_with_them(width, chromium, server,
                                                                          sessions_for_server, tmp_path):
    async with sessions_for_server.begin() as session:
        user, _ = await create_user(session, "erika", "editor", ["stadt"], password="erika-passwort-123")
        user.must_change_password, user.language = False, "de"
    clip, captions = tmp_path / "gruss.mp4", tmp_path / "gruss.vtt"
    clip.write_bytes(mp4_clip(tmp_path))
    captions.write_bytes(CAPTIONS)
    context = await chromium.new_context(base_url=server, locale="de-DE", viewport={"width": width, "height": 900})
    context.set_default_timeout(30_000)
    page = await context.new_page()
    await sign_in(page, "erika", "erika-passwort-123")
    await page.get_by_role("link", name="Neuer Beitrag").click()
    await page.get_by_label("Text", exact=True).fill("Neujahrsgruß der Bürgermeisterin")
    await page.locator("#language").select_option("de")
    await page.get_by_label("Videodatei").set_input_files(str(clip))
    await page.get_by_label("Beschreibung des Videos").fill("Die Bürgermeisterin spricht am Rednerpult")
    await page.get_by_role("button", name="Veröffentlichen").click()

    problem = page.locator("#captions-problem")
    await problem.wait_for()
    assert (await problem.inner_text()).startswith("Untertitel fehlen")
    assert await page.get_by_label("Beschreibung des Videos").input_value() == \
        "Die Bürgermeisterin spricht am Rednerpult"
    assert "Das Video wurde hochgeladen." in await page.locator("fieldset.video").inner_text()
    # The check ran right after the upload, before the worker's next poll could convert it.
    assert (await page.locator("#video-status").inner_text()).startswith("Video wird verarbeitet …")
    assert (await page.locator("#video-problem").inner_text()).startswith("Das Video wird noch verarbeitet.")
    assert await overflow(page) == 0
    if SHOTS:
        await page.screenshot(path=os.path.join(SHOTS, f"video-refused-{width}.png"), full_page=True)

    for _ in range(600):  # the in-process worker converts it (its poll runs every second)
        async with sessions_for_server() as session:
            state = (await session.scalar(select(Media))).state
        if state != MediaState.PROCESSING:
            break
        await asyncio.sleep(0.2)
    assert state == MediaState.READY
    await page.get_by_label("Untertitel (WebVTT-Datei, .vtt)").set_input_files(str(captions))
    await page.get_by_role("button", name="Veröffentlichen").click()
    await page.wait_for_url(re.compile(r"/editor/posts/\d+$"))
    async with sessions_for_server() as session:
        post = await session.scalar(select(Post))
        media = await session.scalar(select(Media))
    assert post.state == PostState.PUBLISHED and media.post_id == post.id and media.captions_filename
    assert await page.locator("article.post video track[kind=captions]").count() == 1
    assert await overflow(page) == 0

    reader = await (await chromium.new_context(base_url=server, locale="de-DE",
                                               viewport={"width": width, "height": 900})).new_page()
    await reader.goto(f"/@stadt/{post.id}")
    video = reader.locator("ul.media video")
    assert await video.get_attribute("aria-label") == "Die Bürgermeisterin spricht am Rednerpult"
    track = video.locator("track")
    assert await track.get_attribute("srclang") == "de" and await track.get_attribute("label") == "German"  # the site's language
    # The browser loads the captions track it is given (a broken or private one would fail here).
    assert await reader.evaluate(
        "() => new Promise(done => { const t = document.querySelector('ul.media video track');"
        " if (t.readyState === 2) return done(true); t.addEventListener('load', () => done(true));"
        " t.addEventListener('error', () => done(false)); t.track.mode = 'showing'; })")
    assert await overflow(reader) == 0
    if SHOTS:
        await reader.screenshot(path=os.path.join(SHOTS, f"video-public-{width}.png"), full_page=True)
    await context.close()
