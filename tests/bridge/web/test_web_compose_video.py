"""A video in the compose form: uploaded once and kept while the form goes back and forth; converted by its
queue job meanwhile (the form says so and refuses to publish until it is done, or names why it failed);
published only with captions (or "no speech") and a description; a broken captions file is named by its line."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bridge.store.models import Media, MediaState, Post, PostState
from support.inbox import run_jobs
from support.videos import CAPTIONS, mp4_clip, webm_clip
from bridge.app import create_app
from support.web import (compose_form, count_posts, editor, make_user, post_id_from, signed_in,  # noqa: F401
                         visitors)


@pytest.fixture
def config(make_config):
    return make_config(limits={"video": True, "video_max_seconds": 5})


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return mp4_clip(tmp_path_factory.mktemp("clips"))


def with_video(form, clip: bytes | None, captions: bytes | None = None, description: str = "", **fields):
    if clip is not None:
        form.add_field("video", clip, filename="gruss.mp4", content_type="video/mp4")
    if captions is not None:
        form.add_field("captions", captions, filename="gruss.vtt", content_type="text/vtt")
    form.add_field("video_description", description)
    for key, value in fields.items():
        form.add_field(key, value)
    return form


async def kept_video(sessions) -> Media:
    async with sessions() as session:
        [media] = (await session.scalars(select(Media))).all()
    return media


async def test_a_video_is_processed_by_its_job_and_then_published(client, visitors, sessions, clip):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.post("/editor/compose", with_video(compose_form("Neujahrsgruß"), clip, CAPTIONS,
                                                              "Die Bürgermeisterin am Rednerpult"))
    assert page.status == 422 and page.has("Video is being processed …")
    assert page.has("The video is still being processed. Send the form again in a minute")
    assert page.has("Die Bürgermeisterin am Rednerpult") and page.has("Neujahrsgruß")  # what was typed is kept
    media = await kept_video(sessions)
    assert media.state == MediaState.PROCESSING and f'name="video_media" value="{media.id}"' in page.text
    assert await count_posts(sessions) == 0
    await run_jobs(client)
    form = with_video(compose_form("Neujahrsgruß"), None, None, "Die Bürgermeisterin am Rednerpult",
                      video_media=str(media.id))
    post_id = post_id_from(await browser.post("/editor/compose", form))
    async with sessions() as session:
        post = await session.get(Post, post_id)
        [media] = (await session.scalars(select(Media).where(Media.post_id == post_id))).all()
    assert post.state == PostState.PUBLISHED and media.is_video and media.captions_filename
    assert media.alt == "Die Bürgermeisterin am Rednerpult"


async def test_without_captions_the_form_comes_back_and_the_kept_video_is_published_once_declared(
        client, visitors, sessions, clip):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.post("/editor/compose", with_video(compose_form("Zeitraffer"), clip, None,
                                                              "Der Marktplatz im Zeitraffer"))
    assert page.status == 422 and page.has("Captions are missing")
    assert page.has("Der Marktplatz im Zeitraffer")  # what was typed is kept
    async with sessions() as session:
        [media] = (await session.scalars(select(Media))).all()
    assert f'name="video_media" value="{media.id}"' in page.text
    assert await count_posts(sessions) == 0
    await run_jobs(client)
    form = with_video(compose_form("Zeitraffer"), None, None, "Der Marktplatz im Zeitraffer",
                      video_media=str(media.id), no_speech="1")
    post_id = post_id_from(await browser.post("/editor/compose", form))
    async with sessions() as session:
        media = await session.get(Media, media.id)
    assert media.post_id == post_id and media.no_speech


async def test_a_broken_captions_file_is_named_by_its_line_and_the_video_is_kept(client, visitors, sessions, clip):
    browser = await editor(visitors, sessions, "erika")
    broken = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nGut\n\n00:00:02,000 --> 00:00:03,000\nKomma\n"
    page = await browser.post("/editor/compose", with_video(compose_form("Gruß"), clip, broken, "Rede"))
    assert page.status == 422 and page.has("line 6")
    async with sessions() as session:
        [media] = (await session.scalars(select(Media))).all()
    assert media.captions_filename is None
    await run_jobs(client)
    form = with_video(compose_form("Gruß"), None, CAPTIONS, "Rede", video_media=str(media.id))
    post_id_from(await browser.post("/editor/compose", form))


async def test_a_video_without_a_description_is_refused(visitors, sessions, clip):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.post("/editor/compose", with_video(compose_form("Gruß"), clip, CAPTIONS, ""))
    assert page.status == 422 and page.has("Describe the video")


async def test_a_failed_conversion_is_named_in_the_form_which_asks_for_another_file(client, visitors, sessions,
                                                                                      tmp_path, monkeypatch):
    monkeypatch.setattr("bridge.convert.videos.TRANSCODE_SECONDS", 0.001)  # ffmpeg cannot finish in time
    browser = await editor(visitors, sessions, "erika")
    await browser.post("/editor/compose", with_video(compose_form("Stadtfest"), webm_clip(tmp_path), CAPTIONS,
                                                       "Bühne am Markt"))
    media = await kept_video(sessions)
    await run_jobs(client)
    form = with_video(compose_form("Stadtfest"), None, None, "Bühne am Markt", video_media=str(media.id))
    page = await browser.post("/editor/compose", form)
    assert page.status == 422 and page.has("Converting the video took too long. Try a shorter or smaller file.")
    assert 'id="video-problem"' in page.text and 'name="video_media"' not in page.text  # a new file is asked for
    assert page.has("Bühne am Markt") and page.has("Stadtfest")
    assert (await kept_video(sessions)).state == MediaState.FAILED and await count_posts(sessions) == 0


async def test_a_file_that_is_no_video_is_refused_next_to_the_field(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.post("/editor/compose", with_video(compose_form("Gruß"), b"kein Video", CAPTIONS, "x"))
    assert page.status == 422 and page.has("could not be read as a video") and 'id="video-problem"' in page.text
    assert await count_posts(sessions) == 0



async def test_where_video_is_off_the_form_has_no_video_field_and_an_upload_is_refused(
        aiohttp_client, make_config, visitors, sessions, clip):
    off = await aiohttp_client(create_app(make_config(), run_worker=False))
    user_id, _ = await make_user(sessions, "erika")
    browser = await signed_in(visitors(off), sessions, user_id)
    page = await browser.get("/editor/compose")
    assert page.status == 200 and 'name="video"' not in page.text
    page = await browser.post("/editor/compose", with_video(compose_form("Gruß"), clip, CAPTIONS, "Rede"))
    assert page.status == 422 and page.has("does not take videos")
    assert await count_posts(sessions) == 0
