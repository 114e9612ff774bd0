"""Video uploads through real ffprobe/ffmpeg processes: accepted files become a clean H.264/AAC MP4 with a
poster; what is not a video, too long, too large or too slow to read is refused with its reason."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from support.videos import ffmpeg_children, make_clip, mp4_clip, webm_clip

from bridge.config.model import LimitsConfig
from bridge.convert.videos import VideoReason, convert_video, ffmpeg_missing, probe_video, process_video

LIMITS = LimitsConfig(max_characters=500, max_images=4, max_image_bytes=10_000_000, max_image_pixels=33_177_600,
                      video=True, video_max_seconds=10, video_max_bytes=5_000_000)


def tags_of(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                          str(path)], check=True, capture_output=True).stdout
    info = json.loads(out)
    return {"format": info["format"].get("tags", {}),
            "codecs": [s["codec_name"] for s in info["streams"]]}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {
        "mp4": mp4_clip(folder),
        "webm": webm_clip(folder),
        "mov": make_clip(folder / "a.mov", "-c:v", "mpeg4", "-c:a", "pcm_s16le"),
        "long": make_clip(folder / "long.mp4", "-c:v", "libx264", "-c:a", "aac", seconds=12),
    }


def written(tmp_path: Path, data: bytes, name: str = "out.mp4") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_ffmpeg_is_found_where_it_is_installed(clips):  # clips: skipped where ffmpeg is missing
    assert ffmpeg_missing() is None


async def test_an_h264_mp4_is_copied_without_its_metadata_and_gets_a_poster(clips, tmp_path):
    video = await process_video(clips["mp4"], LIMITS)
    assert video.ok and not video.transcoded
    assert (video.width, video.height) == (320, 240) and 1.5 < video.seconds < 2.5
    assert video.poster.startswith(b"\xff\xd8")  # a JPEG
    info = tags_of(written(tmp_path, video.data))
    assert "title" not in info["format"] and "location" not in info["format"]
    assert info["codecs"] == ["h264", "aac"]
    assert b"Geheimer Titel" not in video.data


@pytest.mark.parametrize("kind", ["webm", "mov"])
async def test_webm_and_mov_are_transcoded_to_h264_and_aac(clips, tmp_path, kind):
    video = await process_video(clips[kind], LIMITS)
    assert video.ok and video.transcoded and video.mime_type == "video/mp4"
    info = tags_of(written(tmp_path, video.data))
    assert info["codecs"] == ["h264", "aac"] and "title" not in info["format"]


async def test_a_video_longer_than_the_limit_is_refused(clips):
    assert (await process_video(clips["long"], LIMITS)).reason is VideoReason.TOO_LONG


async def test_a_file_larger_than_the_limit_is_refused_before_any_process(clips):
    small = replace(LIMITS, video_max_bytes=len(clips["mp4"]) - 1)
    assert (await process_video(clips["mp4"], small)).reason is VideoReason.TOO_LARGE


@pytest.mark.parametrize("raw", [b"kein Video", b"\x00\x00\x00\x18ftypmp42" + b"\xff" * 5000,
                                 b"\x1aE\xdf\xa3" + bytes(range(256)) * 40])
async def test_garbage_and_crafted_headers_are_no_video(raw):
    assert (await process_video(raw, LIMITS)).reason is VideoReason.NOT_A_VIDEO


async def test_a_still_image_is_no_video(tmp_path):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:duration=1",
                    "-frames:v", "1", str(tmp_path / "a.png")], check=True)
    assert (await process_video((tmp_path / "a.png").read_bytes(), LIMITS)).reason is VideoReason.NOT_A_VIDEO


async def test_an_empty_upload_is_refused():
    assert (await process_video(b"", LIMITS)).reason is VideoReason.EMPTY


async def test_a_probe_that_runs_out_of_time_is_killed_and_the_loop_keeps_running(tmp_path, monkeypatch):
    # A FIFO nobody writes to: ffprobe blocks reading it, as it would spinning on a crafted file.
    fifo = tmp_path / "stuck"
    os.mkfifo(fifo)
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    probe = await probe_video(fifo, seconds=0.5)
    ticker.cancel()
    assert probe.reason is VideoReason.PROBE_TIMEOUT
    assert ticks > 5  # the event loop served other work while ffprobe was stuck


async def test_a_conversion_past_its_time_limit_is_refused(clips):
    video = await process_video(clips["webm"], LIMITS, transcode_seconds=0.001)
    assert video.reason is VideoReason.CONVERT_TIMEOUT


async def test_without_ffmpeg_the_reason_says_so(clips, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a server where Debian's ffmpeg is not installed
    assert "ffmpeg" in (ffmpeg_missing() or "")
    assert (await process_video(clips["mp4"], LIMITS)).reason is VideoReason.FFMPEG_MISSING


async def test_a_conversion_cancelled_midway_leaves_no_ffmpeg_running(clips, tmp_path):
    """A worker stopped mid-conversion: ffmpeg is killed with it, and the job runs again from the raw file."""
    source = written(tmp_path, clips["long"], "raw.mp4")
    probe = await probe_video(source)
    long_limits = replace(LIMITS, video_max_seconds=60)
    slow = replace(probe, video_codec="hevc")  # forces a re-encode, which takes a while
    task = asyncio.create_task(convert_video(source, slow, long_limits))
    while not ffmpeg_children() and not task.done():
        await asyncio.sleep(0.005)
    assert not task.done(), "the conversion finished before ffmpeg was seen"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ffmpeg_children() == 0 and source.exists()
