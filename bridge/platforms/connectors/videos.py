"""A post's video on the platforms that upload it (Mastodon, Telegram, Bluesky, X, Facebook, Instagram, Threads,
LinkedIn): whether a video fits a platform's limits and what goes instead when it does not (its poster frame
among the images and a link to the page where it plays, as on platforms without video upload), the notes the
editor's preview shows for it, and what the uploads share: the bounded wait while a platform processes a video,
the time an upload may take, the file read in parts, WebVTT captions as SubRip for platforms that take SRT."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterator, TypeVar

from activitypub.guard import GuardedSession
from bridge.platforms.connectors.base import Capabilities, ImageView, PostView, VideoView

# Seconds between asking whether the platform has processed the video: about three minutes in all, short
# enough for a job, long enough for a short clip. Still processing then: nothing was posted, the job retries.
POLL_DELAYS = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 30.0, 30.0, 40.0)
DEFAULT_CHUNK = 4 * 1024 * 1024  # X takes at most 5 MB per APPEND; LinkedIn names its own part sizes

# Notes for the editor's preview, shown translated (each is a message id of the German catalogue).
TOO_LARGE = ("The video is larger than the platform accepts: its poster frame goes with a link to the page where "
             "it plays.")
TOO_LONG = ("The video is longer than the platform accepts: its poster frame goes with a link to the page where "
            "it plays.")
TOO_SHORT = ("The video is shorter than the platform accepts: its poster frame goes with a link to the page where "
             "it plays.")
UPLOADED = "The video is uploaded to the platform and plays there."
NO_IMAGES_WITH_VIDEO = ("The platform cannot combine a video with images in one post: only the video is sent; "
                        "the images are on the city's page.")
CAPTIONS_STAY = "The platform gets the video with its description; its captions stay on the city's page."

T = TypeVar("T")


@dataclass(frozen=True)
class VideoChoice:
    video: VideoView | None  # what the connector uploads; None: the poster frame among the images instead
    images: tuple[ImageView, ...]  # the images that go along
    notes: tuple[str, ...] = ()


def unfit(video: VideoView, caps: Capabilities, min_seconds: float = 0) -> str | None:
    """The note saying why the platform would refuse this video (too large, too long, too short), or None."""
    if caps.video_max_bytes is not None and video.size > caps.video_max_bytes:
        return TOO_LARGE
    if caps.video_max_seconds is not None and video.duration_ms > caps.video_max_seconds * 1000:
        return TOO_LONG
    return TOO_SHORT if video.duration_ms < min_seconds * 1000 else None


def choose_video(post: PostView, caps: Capabilities, min_seconds: float = 0, alone: bool = False) -> VideoChoice:
    """The post's video when the platform takes it (within `caps` and at least `min_seconds` long), with the
    images without its poster frame — none when the platform takes a video `alone` (one video or images per
    post); else the images with the poster frame (the text links to the page) and a note why."""
    if not post.videos or not caps.video:
        return VideoChoice(None, post.images)
    video = post.videos[0]  # a post has at most one video (the compose form has one slot)
    problem = unfit(video, caps, min_seconds)
    if problem is not None:
        return VideoChoice(None, post.images, (problem,))
    images = () if alone else post.own_images
    return VideoChoice(video, images, (UPLOADED, *captions_notes([video], caps),
                                       *([NO_IMAGES_WITH_VIDEO] if alone and post.own_images else [])))


def media_items(post: PostView, caps: Capabilities,
                min_seconds: float = 0) -> tuple[tuple[ImageView | VideoView, ...], list[str]]:
    """For platforms that mix images and videos in one post (Instagram, Threads): the media in the post's
    order, each video in its poster frame's place — or the poster frame itself where the video does not fit."""
    if not caps.video:
        return post.images, []
    videos = iter(post.videos)
    items: list[ImageView | VideoView] = []
    notes: list[str] = []
    for image in post.images:
        video = next(videos, None) if image.poster else None
        problem = unfit(video, caps, min_seconds) if video else None
        items.append(image if video is None or problem else video)
        notes += [problem] if problem else []
    sent = [i for i in items if isinstance(i, VideoView)]
    notes += ([UPLOADED] if sent else []) + captions_notes(sent, caps)
    return tuple(items), list(dict.fromkeys(notes))


def captions_notes(videos: list[VideoView], caps: Capabilities) -> list[str]:
    """That the captions stay on the page where the platform takes the description (as the video's alt text) but
    no captions file; a platform without either says so in its own note."""
    stay = caps.alt_text and not caps.video_captions and any(v.captions_path for v in videos)
    return [CAPTIONS_STAY] if stay else []


def upload_seconds(http: GuardedSession, size: int) -> float:
    """Time allowed for uploading `size` bytes: the client's usual total plus what a slow uplink of 2 Mbit/s
    needs (100 MB: 400 s more), as a video upload outlasts the short timeout meant for API calls."""
    return http.policy.total_timeout + size / 250_000


async def wait_for(check: Callable[[], Awaitable[T | None]], delays: tuple[float, ...] = POLL_DELAYS) -> T | None:
    """Asks `check` after each delay until it answers (not None); None when the platform is still busy.
    A first delay of 0 asks at once."""
    for delay in delays:
        await asyncio.sleep(delay)
        found = await check()
        if found is not None:
            return found
    return None


def chunks(path: str, size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
    """The file in parts of `size` bytes (the last may be shorter), read as they are sent."""
    with open(path, "rb") as f:
        while part := f.read(size):
            yield part


def read_range(path: str, first: int, last: int) -> bytes:
    """Bytes `first` to `last` inclusive, as LinkedIn's upload instructions name them."""
    with open(path, "rb") as f:
        f.seek(first)
        return f.read(last - first + 1)


def srt_of(video: VideoView) -> str:
    """The video's captions as SubRip, or "" when it has none (or they cannot be read: they stay on the page)."""
    if not video.captions_path:
        return ""
    try:
        with open(video.captions_path, encoding="utf-8") as f:
            return vtt_to_srt(f.read())
    except (OSError, UnicodeDecodeError):
        return ""


CUE_TIME = re.compile(r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})")
VTT_TAG = re.compile(r"</?(?!(?:i|b|u)>)[^>]*>")  # SubRip knows <i>, <b>, <u>; voices, classes, timestamps go


def vtt_to_srt(vtt: str) -> str:
    """WebVTT cues as SubRip: numbered, hours always written, a comma before the milliseconds; the header,
    notes, styles, cue settings and the tags SubRip lacks are left out."""
    blocks = re.split(r"\n\s*\n", vtt.replace("\r\n", "\n").strip())
    out = []
    for block in blocks:
        lines = block.split("\n")
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue  # the WEBVTT header, NOTE and STYLE blocks
        start, _, rest = lines[timing].partition("-->")
        end = rest.strip().split(" ")[0]
        text = VTT_TAG.sub("", "\n".join(lines[timing + 1:])).strip()
        if text:
            out.append(f"{len(out) + 1}\n{_srt_time(start.strip())} --> {_srt_time(end)}\n{text}\n")
    return "\n".join(out)


def _srt_time(value: str) -> str:
    found = CUE_TIME.fullmatch(value)
    if not found:
        return "00:00:00,000"
    hours, minutes, seconds, millis = found.groups()
    return f"{int(hours or 0):02d}:{minutes}:{seconds},{millis}"
