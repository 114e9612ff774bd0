"""Video upload shared by the connectors that send a post's video themselves (Mastodon, Telegram, Bluesky):
which video a platform gets within its limits, the notes when it gets the poster frame and the link instead,
and the bounded wait while a platform processes an upload."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable, TypeVar

from activitypub.guard import GuardedSession
from bridge.platforms.connectors.base import Capabilities, ImageView, PostView, VideoView

# Seconds between asking whether the platform has processed the video: about three minutes in all, short
# enough for a job, long enough for a short clip. Still processing then: nothing was posted, the job retries.
POLL_DELAYS = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 30.0, 30.0, 40.0)

TOO_LARGE = ("The video is larger than the platform accepts: its poster frame goes with a link to the page where "
             "it plays.")
TOO_LONG = ("The video is longer than the platform accepts: its poster frame goes with a link to the page where "
            "it plays.")
UPLOADED = "The video is uploaded to the platform and plays there."
NO_IMAGES_WITH_VIDEO = ("The platform cannot combine a video with images in one post: only the video is sent; "
                        "the images are on the city's page.")

T = TypeVar("T")


def upload_seconds(http: GuardedSession, size: int) -> float:
    """Time allowed for uploading `size` bytes: the client's usual total plus what a slow uplink of 2 Mbit/s
    needs (100 MB: 400 s more), as a video upload outlasts the short timeout meant for API calls."""
    return http.policy.total_timeout + size / 250_000


@dataclass(frozen=True)
class VideoChoice:
    video: VideoView | None  # what the connector uploads; None: the poster frame among the images instead
    images: tuple[ImageView, ...]  # the images that go along
    notes: tuple[str, ...] = ()


def choose_video(post: PostView, caps: Capabilities) -> VideoChoice:
    """The post's video when the platform takes it (size and length within `caps`), with the images without
    its poster frame; else the images with the poster frame (the text links to the page) and a note why."""
    if not post.videos or not caps.video:
        return VideoChoice(None, post.images)
    video = post.videos[0]  # a post has at most one video (the compose form has one slot)
    if caps.video_max_bytes is not None and video.size > caps.video_max_bytes:
        return VideoChoice(None, post.images, (TOO_LARGE,))
    if caps.video_max_seconds is not None and video.duration_ms > caps.video_max_seconds * 1000:
        return VideoChoice(None, post.images, (TOO_LONG,))
    return VideoChoice(video, post.own_images, (UPLOADED,))


async def wait_for(check: Callable[[], Awaitable[T | None]], delays: tuple[float, ...] = POLL_DELAYS) -> T | None:
    """Asks `check` after each delay until it answers (not None); None when the platform is still busy."""
    for delay in delays:
        await asyncio.sleep(delay)
        found = await check()
        if found is not None:
            return found
    return None
