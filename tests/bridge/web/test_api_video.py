"""POST /api/v2/media with a video: probed and converted by ffmpeg, captions checked; a status with a video
is refused until it has captions (or "no speech") and a description."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from aiohttp import FormData
from support.api import bearer, make_token, upload
from support.videos import CAPTIONS, make_clip, mp4_clip, webm_clip
from sqlalchemy import select

from bridge.store.models import Media


@pytest.fixture
def config(make_config):
    return make_config(limits={"video": True, "video_max_seconds": 5, "video_max_bytes": 3_000_000})


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {"mp4": mp4_clip(folder), "webm": webm_clip(folder), "long": mp4_clip(folder / "..", seconds=7)}


def video_form(data: bytes, description: str | None = "Die Bürgermeisterin begrüßt", captions: bytes | None = None,
               content_type: str = "video/mp4", **fields) -> FormData:
    form = FormData()
    form.add_field("file", data, filename="clip.mp4", content_type=content_type)
    if description is not None:
        form.add_field("description", description)
    if captions is not None:
        form.add_field("captions", captions, filename="de.vtt", content_type="text/vtt")
    for key, value in fields.items():
        form.add_field(key, value)
    return form


async def test_a_video_with_captions_becomes_a_video_attachment_with_its_files_served(client, token, clips):
    response = await client.post("/api/v2/media", data=video_form(clips["webm"], captions=CAPTIONS),
                                 headers=bearer(token))
    assert response.status == 200, await response.text()
    media = await response.json()
    assert media["type"] == "video" and media["url"].endswith(".mp4")
    assert media["preview_url"].endswith("-poster.jpg") and 1.5 < media["meta"]["original"]["duration"] < 2.5
    for url in (media["url"], media["preview_url"]):  # not public before its post is published
        assert (await client.get(url.removeprefix("http://stadt.test"))).status == 404


async def test_a_status_with_a_captioned_video_is_published(client, token, clips, sessions):
    media = await (await client.post("/api/v2/media", data=video_form(clips["mp4"], captions=CAPTIONS),
                                     headers=bearer(token))).json()
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Neujahrsempfang", "media_ids": [media["id"]]})
    assert response.status == 200, await response.text()
    status = await response.json()
    assert status["media_attachments"][0]["type"] == "video"
    served = await client.get(media["url"].removeprefix("http://stadt.test"))
    assert served.status == 200 and served.headers["Content-Type"] == "video/mp4"
    assert b"Geheimer Titel" not in await served.read()
    part = await client.get(media["url"].removeprefix("http://stadt.test"), headers={"Range": "bytes=0-99"})
    assert part.status == 206 and len(await part.read()) == 100  # players seek by range
    poster = await client.get(media["preview_url"].removeprefix("http://stadt.test"))
    assert poster.status == 200 and poster.headers["Content-Type"] == "image/jpeg"
    async with sessions() as session:
        row = await session.get(Media, int(media["id"]))
    captions = await client.get(f"/media/{row.captions_filename}")
    assert captions.status == 200 and captions.headers["Content-Type"].startswith("text/vtt")
    assert (await captions.read()).startswith(b"WEBVTT")


async def test_a_status_with_a_video_without_captions_is_refused_saying_so(client, token, clips):
    media = await (await client.post("/api/v2/media", data=video_form(clips["mp4"]), headers=bearer(token))).json()
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Ohne Untertitel", "media_ids": [media["id"]]})
    assert response.status == 422
    assert "captions are missing" in (await response.json())["error"]


async def test_no_speech_declared_is_enough(client, token, clips):
    media = await (await client.post("/api/v2/media", data=video_form(clips["mp4"], no_speech="true"),
                                     headers=bearer(token))).json()
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Zeitraffer vom Markt", "media_ids": [media["id"]]})
    assert response.status == 200, await response.text()


async def test_a_video_and_an_image_together_are_refused(client, token, clips):
    video = await (await client.post("/api/v2/media", data=video_form(clips["mp4"], no_speech="true"),
                                     headers=bearer(token))).json()
    image = await upload(client, token)
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Beides", "media_ids": [video["id"], image["id"]]})
    assert response.status == 422 and "one video" in (await response.json())["error"]


@pytest.mark.parametrize("captions, line", [(b"WEBVTT\n\n00:00:00,000 --> 00:00:01,000\nKomma\n", 3),
                                            (b"Untertitel\n", 1)])
async def test_invalid_captions_are_refused_with_the_line(client, token, clips, sessions, captions, line):
    response = await client.post("/api/v2/media", data=video_form(clips["mp4"], captions=captions),
                                 headers=bearer(token))
    assert response.status == 422
    assert f"captions line {line}:" in (await response.json())["error"]
    async with sessions() as session:
        assert (await session.scalars(select(Media))).all() == []


@pytest.mark.parametrize("clip, reason", [("long", "longer than allowed"), (None, "could not be read")])
async def test_what_is_too_long_or_no_video_is_refused_with_the_reason(client, token, clips, clip, reason):
    data = clips[clip] if clip else b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000
    response = await client.post("/api/v2/media", data=video_form(data), headers=bearer(token))
    assert response.status == 422 and reason in (await response.json())["error"]


async def test_a_video_larger_than_the_limit_is_refused(client, token):
    response = await client.post("/api/v2/media", data=video_form(b"\x00" * 3_000_001), headers=bearer(token))
    assert response.status == 422 and "larger than allowed" in (await response.json())["error"]


async def test_without_video_enabled_a_video_is_refused(aiohttp_client, make_config, booted, token, clips):
    from bridge.app import create_app
    other = await aiohttp_client(create_app(make_config(), run_worker=False))
    response = await other.post("/api/v2/media", data=video_form(clips["mp4"]), headers=bearer(token))
    assert response.status == 422 and "does not take videos" in (await response.json())["error"]


def ffmpeg_children() -> int:
    """ffmpeg/ffprobe processes started by this test process right now (from /proc)."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            name, ppid = fields[0].split("(", 1)[1], int(fields[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        count += ppid == os.getpid() and name in ("ffmpeg", "ffprobe")
    return count


async def test_pages_answer_while_a_video_is_converted_in_its_own_process(client, token, tmp_path):
    clip = make_clip(tmp_path / "lang.webm", "-c:v", "libvpx", "-b:v", "400k", "-c:a", "libvorbis", seconds=4)
    upload = asyncio.create_task(client.post("/api/v2/media", data=video_form(clip, no_speech="true"),
                                             headers=bearer(token)))
    while not ffmpeg_children() and not upload.done():
        await asyncio.sleep(0.005)
    assert not upload.done(), "the upload finished before ffmpeg was seen"
    answered = await client.get("/nodeinfo/2.1")
    assert answered.status == 200 and not upload.done()  # answered while the upload still waits on ffmpeg
    response = await upload
    assert response.status == 200, await response.text()
