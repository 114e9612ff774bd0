"""POST /api/v2/media with a video: probed at once (what is no video, too long or too large is refused right
away), converted by the `video.process` job as on Mastodon (202 with `url: null`, then 206 until the job is
done, then 200); captions checked; a status with a video is refused until it is processed and has captions
(or "no speech") and a description."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiohttp import FormData
from support.api import bearer, make_token, upload
from support.inbox import run_jobs
from support.videos import CAPTIONS, ffmpeg_children, make_clip, mp4_clip, webm_clip
from sqlalchemy import select, update

from bridge.appkeys import CONFIG
from bridge.publishing import videos
from bridge.publishing.videos import PROCESS_JOB
from bridge.queue import jobs
from bridge.runtime.media_storage import media_key, media_storage
from bridge.store.db import utcnow
from bridge.store.models import Job, JobState, Media, MediaState


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


async def uploaded(client, token, data: bytes, **fields) -> dict:
    """An upload answered as Mastodon answers one still processing: 202, no url yet."""
    response = await client.post("/api/v2/media", data=video_form(data, **fields), headers=bearer(token))
    assert response.status == 202, await response.text()
    media = await response.json()
    assert media["type"] == "video" and media["url"] is None
    return media


async def processed(client, token, data: bytes, **fields) -> dict:
    """Uploaded, its job run, and the attachment as `GET /api/v1/media/:id` then answers it."""
    media = await uploaded(client, token, data, **fields)
    await run_jobs(client)
    response = await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))
    assert response.status == 200, await response.text()
    return await response.json()


async def test_an_upload_answers_202_then_206_while_processing_and_200_when_done(client, token, clips, sessions):
    media = await uploaded(client, token, clips["webm"], captions=CAPTIONS)
    waiting = await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))
    assert waiting.status == 206 and (await waiting.json())["url"] is None
    async with sessions() as session:
        row = await session.get(Media, int(media["id"]))
        [job] = (await session.scalars(select(Job).where(Job.kind == PROCESS_JOB))).all()
    assert row.state == MediaState.PROCESSING and job.payload == {"media_id": row.id}
    raw = media_storage(_config(client)).local_path(media_key(row.raw_filename))
    assert raw.is_file()
    assert await run_jobs(client) == 1
    done = await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))
    assert done.status == 200
    body = await done.json()
    assert body["url"].endswith(".mp4") and body["preview_url"].endswith("-poster.jpg")
    async with sessions() as session:
        row = await session.get(Media, int(media["id"]))
    assert row.state == MediaState.READY and row.raw_filename is None and row.failure is None
    assert not raw.exists()  # the raw upload is gone once converted


async def test_a_status_with_a_video_still_processing_is_refused_with_422(client, token, clips):
    media = await uploaded(client, token, clips["mp4"], no_speech="true")
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Zu früh", "media_ids": [media["id"]]})
    assert response.status == 422
    assert "not finished processing" in (await response.json())["error"]
    await run_jobs(client)
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Jetzt", "media_ids": [media["id"]]})
    assert response.status == 200, await response.text()


async def test_a_failing_conversion_marks_the_video_failed_with_its_reason(client, token, clips, sessions,
                                                                           monkeypatch):
    monkeypatch.setattr("bridge.convert.videos.TRANSCODE_SECONDS", 0.001)  # ffmpeg cannot finish in time
    media = await uploaded(client, token, clips["webm"], no_speech="true")
    await run_jobs(client)
    async with sessions() as session:
        row = await session.get(Media, int(media["id"]))
        [job] = (await session.scalars(select(Job).where(Job.kind == PROCESS_JOB))).all()
    assert row.state == MediaState.FAILED and row.failure == "convert_timeout" and row.raw_filename is None
    assert job.state == JobState.DONE
    folder = media_storage(_config(client)).local_path(media_key("x")).parent
    assert not any(folder.glob("*.upload"))  # the raw file of a failed job is deleted
    shown = await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))
    assert shown.status == 422 and "converting the video took too long" in (await shown.json())["error"]
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Kaputt", "media_ids": [media["id"]]})
    assert response.status == 422 and "could not be processed" in (await response.json())["error"]


async def test_a_job_whose_worker_died_mid_conversion_runs_again_from_the_raw_file(client, token, clips, sessions):
    media = await uploaded(client, token, clips["webm"], no_speech="true")
    async with sessions() as session:  # a worker claimed it and was killed: its lock runs out
        [claimed] = await jobs.claim(session, "killed-worker", lock=timedelta(seconds=-1))
    assert claimed.kind == PROCESS_JOB
    assert await run_jobs(client) == 1
    assert (await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))).status == 200


async def test_a_job_that_crashed_is_retried_and_the_video_is_not_lost(client, token, clips, sessions,
                                                                       monkeypatch):
    media = await uploaded(client, token, clips["mp4"], no_speech="true")
    real, calls = videos.convert_video, []

    async def crash_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        return await real(*args, **kwargs)

    monkeypatch.setattr(videos, "convert_video", crash_once)
    await run_jobs(client)
    async with sessions.begin() as session:
        job = await session.scalar(select(Job).where(Job.kind == PROCESS_JOB))
        row = await session.get(Media, int(media["id"]))
        assert job.state == JobState.QUEUED and job.last_error.startswith("handler_crashed")
        assert row.state == MediaState.PROCESSING and row.raw_filename
        await session.execute(update(Job).where(Job.id == job.id).values(run_at=utcnow()))  # its back-off is over
    await run_jobs(client)
    assert (await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))).status == 200
    assert len(calls) == 2


def _config(client):
    return client.app[CONFIG]


async def test_a_video_with_captions_becomes_a_video_attachment_with_its_files_served(client, token, clips):
    media = await processed(client, token, clips["webm"], captions=CAPTIONS)
    assert media["type"] == "video" and media["url"].endswith(".mp4")
    assert media["preview_url"].endswith("-poster.jpg") and 1.5 < media["meta"]["original"]["duration"] < 2.5
    for url in (media["url"], media["preview_url"]):  # not public before its post is published
        assert (await client.get(url.removeprefix("http://stadt.test"))).status == 404


async def test_a_status_with_a_captioned_video_is_published(client, token, clips, sessions):
    media = await processed(client, token, clips["mp4"], captions=CAPTIONS)
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
    media = await processed(client, token, clips["mp4"])
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Ohne Untertitel", "media_ids": [media["id"]]})
    assert response.status == 422
    assert "captions are missing" in (await response.json())["error"]


async def test_no_speech_declared_is_enough(client, token, clips):
    media = await processed(client, token, clips["mp4"], no_speech="true")
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Zeitraffer vom Markt", "media_ids": [media["id"]]})
    assert response.status == 200, await response.text()


async def test_a_video_and_an_image_together_are_refused(client, token, clips):
    video = await processed(client, token, clips["mp4"], no_speech="true")
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


async def test_the_upload_answers_before_any_conversion_and_pages_answer_while_the_job_converts(client, token,
                                                                                             tmp_path):
    clip = make_clip(tmp_path / "lang.webm", "-c:v", "libvpx", "-b:v", "400k", "-c:a", "libvorbis", seconds=4)
    media = await uploaded(client, token, clip, no_speech="true")  # answered without waiting for ffmpeg
    worker = asyncio.create_task(run_jobs(client))
    while not ffmpeg_children() and not worker.done():
        await asyncio.sleep(0.005)
    assert not worker.done(), "the job finished before ffmpeg was seen"
    answered = await client.get("/nodeinfo/2.1")
    assert answered.status == 200 and not worker.done()  # answered while the job still waits on ffmpeg
    waiting = await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))
    assert waiting.status == 206
    assert await worker == 1
    assert (await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))).status == 200
