"""Storing an uploaded image for a post: the re-encoded file in the media storage plus its media row."""

from __future__ import annotations

import asyncio
import enum
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.config.model import Config, LimitsConfig
from bridge.convert.captions import EXTENSION as CAPTIONS_EXTENSION, MIME_TYPE as CAPTIONS_TYPE, CaptionReason, \
    check_captions
from bridge.convert.images import MAX_ALT, MediaReason, ProcessedImage, process_image
from bridge.convert.videos import EXTENSION as VIDEO_EXTENSION, MIME_TYPE as VIDEO_TYPE, VideoReason, check_upload
from bridge.runtime.media_storage import media_key, media_storage
from bridge.publishing.videos import PROCESS_ATTEMPTS, PROCESS_JOB
from bridge.queue import jobs
from bridge.store.models import Actor, Media, MediaState, User, new_id
from bridge.auth.users import may_use_actor


NOT_ALLOWED = "you may not post as this account"
ALT_TOO_LONG = "alt text may have at most 1500 characters"


class UploadReason(enum.StrEnum):
    OK = "ok"
    ACTOR_NOT_ALLOWED = "actor_not_allowed"
    ALT_TOO_LONG = "alt_too_long"
    IMAGE_REJECTED = "image_rejected"
    VIDEO_DISABLED = "video_disabled"
    VIDEO_REJECTED = "video_rejected"
    CAPTIONS_REJECTED = "captions_rejected"


# At most this many images are decoded at once: each costs a core and, decoded, up to ~130 MB (33 megapixels
# in RGBA); a burst of uploads waits its turn instead of taking the server's memory.
IMAGE_WORKERS = max(1, min(4, os.cpu_count() or 1))


class ImageWork:
    """Re-encoding off the event loop: one large photo takes seconds of CPU, and on the loop it stalled every
    request of the server (issue 16). Pillow releases the GIL while it decodes and encodes, so threads do."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None  # started at the first upload, not at import

    async def process(self, raw: bytes, limits: LimitsConfig) -> ProcessedImage:
        return await self.run(process_image, raw, limits)

    async def run(self, work, *args):
        """Any decoding work (a post's image, a profile picture) in the same bounded pool."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="stadtbote-images")
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)


IMAGE_WORK = ImageWork(IMAGE_WORKERS)


@dataclass(frozen=True)
class UploadResult:
    reason: UploadReason
    media: Media | None = None
    image_reason: MediaReason | None = None
    description: str = ""
    video_reason: VideoReason | None = None
    caption_reason: CaptionReason | None = None
    caption_line: int = 0

    @property
    def ok(self) -> bool:
        return self.reason is UploadReason.OK


async def upload_image(session: AsyncSession, config: Config, user: User, actor_name: str, raw: bytes,
                       alt: str = "", decorative: bool = False) -> UploadResult:
    if not may_use_actor(user, actor_name) or config.actor(actor_name) is None:
        return UploadResult(UploadReason.ACTOR_NOT_ALLOWED, description=NOT_ALLOWED)
    if len(alt) > MAX_ALT:
        return UploadResult(UploadReason.ALT_TOO_LONG, description=ALT_TOO_LONG)
    image = await IMAGE_WORK.process(raw, config.limits)
    if not image.ok:
        return UploadResult(UploadReason.IMAGE_REJECTED, image_reason=image.reason, description=image.description)
    actor_id = await session.scalar(select(Actor.id).where(Actor.name == actor_name))
    media_id = new_id()
    filename = f"{media_id:x}.{image.extension}"
    await media_storage(config).put(media_key(filename), image.data, image.mime_type)
    media = Media(id=media_id, actor_id=actor_id, uploader_id=user.id, filename=filename,
                  mime_type=image.mime_type, width=image.width, height=image.height, size=len(image.data),
                  alt=alt.strip(), decorative=decorative and not alt.strip())
    session.add(media)
    await session.flush()
    return UploadResult(UploadReason.OK, media)


def describe_image(user: User, actor_name: str, media: Media, alt: str) -> UploadResult:
    """New alt text for an image `actor_name` uploaded, by the rules of `upload_image`. (Callers offer this for
    images not yet in a post: an attached image changes with its post's edit, which four-eyes approval sees.)"""
    if not may_use_actor(user, actor_name):
        return UploadResult(UploadReason.ACTOR_NOT_ALLOWED, media, description=NOT_ALLOWED)
    if len(alt) > MAX_ALT:
        return UploadResult(UploadReason.ALT_TOO_LONG, media, description=ALT_TOO_LONG)
    media.alt, media.decorative = alt.strip(), False
    return UploadResult(UploadReason.OK, media)


VIDEO_DISABLED = "this server does not take videos ([limits] video = false)"
STAGE_CHUNK = 1024 * 1024


async def upload_video(session: AsyncSession, config: Config, user: User, actor_name: str, source: bytes | BinaryIO,
                       description: str = "", captions: bytes | None = None, no_speech: bool = False) -> UploadResult:
    """A video with its description and captions (WebVTT) or the declaration that nothing is spoken. Either may
    still be missing here: publishing refuses a post whose video lacks them, as it does an image without alt.

    Only the quick checks run here (size, ffprobe): the raw file is stored and the media row, still
    processing, gets a `video.process` job that converts it. `source` is the upload's file (read in chunks,
    never whole) or its bytes."""
    if not may_use_actor(user, actor_name) or config.actor(actor_name) is None:
        return UploadResult(UploadReason.ACTOR_NOT_ALLOWED, description=NOT_ALLOWED)
    if not config.limits.video:
        return UploadResult(UploadReason.VIDEO_DISABLED, description=VIDEO_DISABLED)
    if len(description) > MAX_ALT:
        return UploadResult(UploadReason.ALT_TOO_LONG, description=ALT_TOO_LONG)
    checked = check_captions(captions) if captions else None
    if checked is not None and not checked.ok:
        return UploadResult(UploadReason.CAPTIONS_REJECTED, caption_reason=checked.reason,
                            caption_line=checked.line, description=checked.description)
    media_id = new_id()
    raw_filename = f"{media_id:x}.upload"  # never served: /media answers only a row's published files
    with tempfile.TemporaryDirectory(prefix="stadtbote-upload-") as folder:
        staged = Path(folder, "upload")
        size = await asyncio.to_thread(_stage, source, staged, config.limits.video_max_bytes)
        # Not in the conversion slots: a probe takes seconds and must not wait behind minutes of conversion.
        probe = await check_upload(staged, size, config.limits)
        if not probe.ok:
            return UploadResult(UploadReason.VIDEO_REJECTED, video_reason=probe.reason,
                                description=probe.reason.description)
        await media_storage(config).put_file(media_key(raw_filename), staged, "application/octet-stream")
    actor_id = await session.scalar(select(Actor.id).where(Actor.name == actor_name))
    media = Media(id=media_id, actor_id=actor_id, uploader_id=user.id, filename=f"{media_id:x}.{VIDEO_EXTENSION}",
                  mime_type=VIDEO_TYPE, width=probe.width, height=probe.height, size=size,
                  alt=description.strip(), duration_ms=round(probe.seconds * 1000), no_speech=no_speech,
                  state=MediaState.PROCESSING, raw_filename=raw_filename)
    if checked is not None:
        await _store_captions(config, media, checked.text)
    session.add(media)
    await session.flush()
    await jobs.enqueue(session, PROCESS_JOB, {"media_id": media_id}, max_attempts=PROCESS_ATTEMPTS)
    return UploadResult(UploadReason.OK, media)


def _stage(source: bytes | BinaryIO, target: Path, limit: int) -> int:
    """Writes the upload to `target` in chunks; stops one byte past `limit` (too large is all that matters)."""
    if isinstance(source, (bytes, bytearray)):
        target.write_bytes(source[:limit + 1])
        return len(source)
    size = 0
    with target.open("wb") as out:
        while size <= limit and (chunk := source.read(STAGE_CHUNK)):
            out.write(chunk)
            size += len(chunk)
    return size


async def caption_video(config: Config, user: User, actor_name: str, media: Media, captions: bytes | None,
                        no_speech: bool) -> UploadResult:
    """New captions (or the "no speech" declaration) for a video not yet in a post, by `upload_video`'s rules."""
    if not may_use_actor(user, actor_name):
        return UploadResult(UploadReason.ACTOR_NOT_ALLOWED, media, description=NOT_ALLOWED)
    if captions:
        checked = check_captions(captions)
        if not checked.ok:
            return UploadResult(UploadReason.CAPTIONS_REJECTED, media, caption_reason=checked.reason,
                                caption_line=checked.line, description=checked.description)
        await _store_captions(config, media, checked.text)
    media.no_speech = no_speech
    return UploadResult(UploadReason.OK, media)


async def _store_captions(config: Config, media: Media, text: str) -> None:
    media.captions_filename = f"{media.id:x}.{CAPTIONS_EXTENSION}"
    await media_storage(config).put(media_key(media.captions_filename), text.encode(), CAPTIONS_TYPE)
