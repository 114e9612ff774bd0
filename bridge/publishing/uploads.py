"""Storing an uploaded image for a post: the re-encoded file in the media storage plus its media row."""

from __future__ import annotations

import asyncio
import enum
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.config.model import Config, LimitsConfig
from bridge.convert.images import MAX_ALT, MediaReason, ProcessedImage, process_image
from bridge.runtime.media_storage import media_key, media_storage
from bridge.store.models import Actor, Media, User, new_id
from bridge.auth.users import may_use_actor


NOT_ALLOWED = "you may not post as this account"
ALT_TOO_LONG = "alt text may have at most 1500 characters"


class UploadReason(enum.StrEnum):
    OK = "ok"
    ACTOR_NOT_ALLOWED = "actor_not_allowed"
    ALT_TOO_LONG = "alt_too_long"
    IMAGE_REJECTED = "image_rejected"


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
