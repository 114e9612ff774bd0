"""A post's video on the platforms that upload video (X, Facebook, Instagram, Threads, LinkedIn): which video a
platform takes within its documented size and length limits, what goes instead when it does not (the poster
frame and the link to the page where the video plays with captions, as on platforms without video upload),
and the pieces the uploads share: the file read in parts, WebVTT captions as SubRip for platforms that take SRT."""

from __future__ import annotations

import re
from typing import Iterator

from bridge.platforms.connectors.base import Capabilities, ImageView, PostView, VideoView

DEFAULT_CHUNK = 4 * 1024 * 1024  # X takes at most 5 MB per APPEND; LinkedIn names its own part sizes


# Notes for the editor's preview, shown translated (each is a message id of the German catalogue).
TOO_LARGE = ("The video is larger or longer than this platform takes: its poster frame and a link to the post's "
             "page go instead.")
TOO_SHORT = "The video is shorter than this platform takes: its poster frame and a link to the post's page go instead."
ALONE = ("This platform takes a video alone: the images and further videos are left out there (the text links to "
         "the post's page).")
CAPTIONS_STAY = "The platform gets the video with its description; its captions stay on the city's page."


def unfit(video: VideoView, caps: Capabilities, min_seconds: float = 0) -> str | None:
    """The note saying why the platform would refuse this video (too large, too long, too short), or None."""
    if (caps.video_max_bytes and video.size > caps.video_max_bytes) or \
            (caps.video_max_seconds and video.duration_ms > caps.video_max_seconds * 1000):
        return TOO_LARGE
    return TOO_SHORT if video.duration_ms < min_seconds * 1000 else None


def single_video(post: PostView, caps: Capabilities,
                 min_seconds: float = 0) -> tuple[VideoView | None, tuple[ImageView, ...], list[str]]:
    """For platforms whose posts carry one video and nothing alongside (X, Facebook, LinkedIn): the post's first
    video with no images, or — when it does not fit the platform's limits — the images with the poster frames,
    as platforms without video upload get them."""
    if not caps.video or not post.videos:
        return None, post.images, []
    video = post.videos[0]
    problem = unfit(video, caps, min_seconds)
    if problem is not None:
        return None, post.images, [problem]
    notes = [CAPTIONS_STAY] if not caps.video_captions and video.captions_path else []
    if len(post.videos) > 1 or post.own_images:
        notes.append(ALONE)
    return video, (), notes


def media_items(post: PostView, caps: Capabilities,
                min_seconds: float = 0) -> tuple[tuple[ImageView | VideoView, ...], list[str]]:
    """For platforms that mix images and videos in one post (Instagram, Threads): the media in the post's
    order, each video in its poster frame's place — or the poster frame itself where the video does not fit."""
    videos = iter(post.videos)
    items: list[ImageView | VideoView] = []
    notes: list[str] = []
    for image in post.images:
        video = next(videos, None) if image.poster else None
        problem = (unfit(video, caps, min_seconds) if caps.video else TOO_LARGE) if video else None
        items.append(image if video is None or problem else video)
        notes += [problem] if problem else []
    if not caps.video_captions and any(isinstance(i, VideoView) and i.captions_path for i in items):
        notes.append(CAPTIONS_STAY)
    return tuple(items), list(dict.fromkeys(notes))


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
