"""Video uploads: probed with ffprobe, made into an H.264/AAC MP4 without metadata, and given a poster frame.

The upload request only probes (`check_upload`, seconds); the conversion (`convert_video`, minutes) runs in
the `video.process` job, so no request waits on it.

Every decoder call runs in its own ffprobe/ffmpeg process with a time limit (issue 23): a file crafted to
make a decoder spin or crash takes down that process only, never the server, and the event loop only waits
on a pipe. The process is killed when its time is up.
"""

from __future__ import annotations

import asyncio
import enum
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bridge.config.model import LimitsConfig

ACCEPTED_TYPES = ("video/mp4", "video/webm", "video/quicktime")
# ffprobe's format names for the containers we take (MOV and MP4 share one demuxer).
CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"}
PROBE_SECONDS = 20.0
POSTER_SECONDS = 30.0
# Transcoding a long video on two cores takes a while; past this the file is refused rather than queued forever.
TRANSCODE_SECONDS = 600.0
MIME_TYPE, EXTENSION = "video/mp4", "mp4"


class VideoReason(enum.StrEnum):
    OK = "ok"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TOO_LONG = "too_long"
    NOT_A_VIDEO = "not_a_video"
    PROBE_TIMEOUT = "probe_timeout"
    CONVERT_FAILED = "convert_failed"
    CONVERT_TIMEOUT = "convert_timeout"
    FFMPEG_MISSING = "ffmpeg_missing"
    RAW_MISSING = "raw_missing"
    GONE = "gone"

    @property
    def description(self) -> str:
        return VIDEO_TEXT[self]


VIDEO_TEXT = {
    VideoReason.OK: "video accepted",
    VideoReason.EMPTY: "the file is empty",
    VideoReason.TOO_LARGE: "the video file is larger than allowed",
    VideoReason.TOO_LONG: "the video is longer than allowed",
    VideoReason.NOT_A_VIDEO: "the file could not be read as an MP4, WebM or MOV video",
    VideoReason.PROBE_TIMEOUT: "reading the video took too long",
    VideoReason.CONVERT_FAILED: "the video could not be converted",
    VideoReason.CONVERT_TIMEOUT: "converting the video took too long",
    VideoReason.FFMPEG_MISSING: "video needs ffmpeg and ffprobe on the server (Debian: apt-get install ffmpeg)",
    VideoReason.RAW_MISSING: "the uploaded file is no longer stored; upload the video again",
    VideoReason.GONE: "the video was deleted or processed already",
}


def ffmpeg_missing() -> str | None:
    """The start-up check: a one-line message when video is enabled but a tool is missing, else None."""
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if not missing:
        return None
    return (f"[limits] video is enabled but {' and '.join(missing)} cannot be found: "
            f"install Debian's ffmpeg (apt-get install ffmpeg) or set video = false")


@dataclass(frozen=True)
class Probe:
    reason: VideoReason
    container: str = ""
    video_codec: str = ""
    audio_codec: str = ""  # "" when the video has no sound
    width: int = 0
    height: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.reason is VideoReason.OK

    @property
    def playable_as_is(self) -> bool:
        """H.264 with AAC (or silence) in MP4/MOV: copied into a fresh MP4, not re-encoded."""
        return (self.container.startswith("mov,mp4") and self.video_codec == "h264"
                and self.audio_codec in ("", "aac"))


@dataclass(frozen=True)
class ProcessedVideo:
    reason: VideoReason
    data: bytes = b""
    poster: bytes = b""  # a JPEG of an early frame
    width: int = 0
    height: int = 0
    seconds: float = 0.0
    transcoded: bool = False
    mime_type: str = MIME_TYPE
    extension: str = EXTENSION

    @property
    def ok(self) -> bool:
        return self.reason is VideoReason.OK

    @property
    def description(self) -> str:
        return self.reason.description


async def _run(args: list[str], seconds: float) -> tuple[int, bytes] | None:
    """Runs one tool with a time limit; None when the time ran out (the process is killed and reaped)."""
    process = await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), seconds)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        return None
    except asyncio.CancelledError:  # a worker stopping mid-conversion leaves no ffmpeg behind; the job is retried
        process.kill()
        await asyncio.shield(process.wait())
        raise
    return process.returncode, out


async def probe_video(path: Path, seconds: float = PROBE_SECONDS) -> Probe:
    result = await _run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                         str(path)], seconds)
    if result is None:
        return Probe(VideoReason.PROBE_TIMEOUT)
    code, out = result
    try:
        info = json.loads(out) if code == 0 else {}
        container = str(info["format"]["format_name"])
        duration = float(info["format"].get("duration") or 0)
    except (ValueError, KeyError, TypeError):
        return Probe(VideoReason.NOT_A_VIDEO)
    streams = info.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if container not in CONTAINERS or video is None or duration <= 0:
        return Probe(VideoReason.NOT_A_VIDEO)
    return Probe(VideoReason.OK, container, str(video.get("codec_name", "")),
                 str(audio.get("codec_name", "")) if audio else "",
                 int(video.get("width") or 0), int(video.get("height") or 0), duration)


def _convert_args(source: Path, target: Path, probe: Probe) -> list[str]:
    # -map_metadata -1 and -map_chapters -1 drop container and stream tags (camera, place, creation time).
    common = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), "-map", "0:v:0", "-map", "0:a:0?",
              "-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn"]
    if probe.playable_as_is:
        codecs = ["-c", "copy"]
    else:
        # Even dimensions for yuv420p; a player on a phone plays this profile everywhere.
        codecs = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                  "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-c:a", "aac", "-b:a", "128k"]
    return [*common, *codecs, "-movflags", "+faststart", str(target)]


async def _poster(video: Path, target: Path, seconds: float) -> bytes:
    at = f"{min(1.0, seconds / 2):.3f}"
    result = await _run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", at, "-i", str(video),
                         "-frames:v", "1", "-map_metadata", "-1", "-q:v", "4", str(target)], POSTER_SECONDS)
    if result is None or result[0] != 0 or not target.exists():
        return b""
    return target.read_bytes()


async def check_upload(source: Path, size: int, limits: LimitsConfig) -> Probe:
    """What the upload request decides at once: size, tools, readable as a video, length."""
    if not size:
        return Probe(VideoReason.EMPTY)
    if size > limits.video_max_bytes:
        return Probe(VideoReason.TOO_LARGE)
    if ffmpeg_missing():
        return Probe(VideoReason.FFMPEG_MISSING)
    probe = await probe_video(source)
    if probe.ok and probe.seconds > limits.video_max_seconds:
        return Probe(VideoReason.TOO_LONG, seconds=probe.seconds)
    return probe


async def convert_video(source: Path, probe: Probe, limits: LimitsConfig,
                        transcode_seconds: float | None = None) -> ProcessedVideo:
    """The MP4 that will be published (and its poster) from a probed file; the slow part, run by the job."""
    if ffmpeg_missing():
        return ProcessedVideo(VideoReason.FFMPEG_MISSING)
    with tempfile.TemporaryDirectory(prefix="stadtbote-video-") as folder:
        target, poster = Path(folder, "out.mp4"), Path(folder, "poster.jpg")
        result = await _run(_convert_args(source, target, probe),
                            TRANSCODE_SECONDS if transcode_seconds is None else transcode_seconds)
        if result is None:
            return ProcessedVideo(VideoReason.CONVERT_TIMEOUT)
        if result[0] != 0 or not target.exists():
            return ProcessedVideo(VideoReason.CONVERT_FAILED)
        converted = await probe_video(target)
        if not converted.ok:
            return ProcessedVideo(VideoReason.CONVERT_FAILED)
        data = await asyncio.to_thread(target.read_bytes)
        if len(data) > limits.video_max_bytes:
            return ProcessedVideo(VideoReason.TOO_LARGE)
        return ProcessedVideo(VideoReason.OK, data, await _poster(target, poster, converted.seconds),
                              converted.width, converted.height, converted.seconds,
                              transcoded=not probe.playable_as_is)


async def process_video(raw: bytes, limits: LimitsConfig, transcode_seconds: float | None = None) -> ProcessedVideo:
    """Both steps at once, for bytes in hand (the checks of the upload, then the conversion of the job)."""
    with tempfile.TemporaryDirectory(prefix="stadtbote-video-") as folder:
        source = Path(folder, "upload")
        await asyncio.to_thread(source.write_bytes, raw)
        probe = await check_upload(source, len(raw), limits)
        if not probe.ok:
            return ProcessedVideo(probe.reason, seconds=probe.seconds)
        return await convert_video(source, probe, limits, transcode_seconds)
