"""Storing an uploaded image for a post: re-encoded file on disk plus its media row."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.config.model import Config
from bridge.convert.images import MAX_ALT, MediaReason, process_image, store_file
from bridge.store.models import Actor, Media, User, new_id
from bridge.auth.users import may_use_actor


class UploadReason(enum.StrEnum):
    OK = "ok"
    ACTOR_NOT_ALLOWED = "actor_not_allowed"
    ALT_TOO_LONG = "alt_too_long"
    IMAGE_REJECTED = "image_rejected"


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
        return UploadResult(UploadReason.ACTOR_NOT_ALLOWED, description="you may not post as this account")
    if len(alt) > MAX_ALT:
        return UploadResult(UploadReason.ALT_TOO_LONG, description="alt text may have at most 1500 characters")
    image = process_image(raw, config.limits)
    if not image.ok:
        return UploadResult(UploadReason.IMAGE_REJECTED, image_reason=image.reason, description=image.description)
    actor_id = await session.scalar(select(Actor.id).where(Actor.name == actor_name))
    media_id = new_id()
    filename = f"{media_id:x}.{image.extension}"
    store_file(config.instance.data_dir, filename, image.data)
    media = Media(id=media_id, actor_id=actor_id, uploader_id=user.id, filename=filename,
                  mime_type=image.mime_type, width=image.width, height=image.height, size=len(image.data),
                  alt=alt.strip(), decorative=decorative and not alt.strip())
    session.add(media)
    await session.flush()
    return UploadResult(UploadReason.OK, media)
