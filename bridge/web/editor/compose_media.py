"""Images of the compose form: new uploads are stored at once, so a form sent back with a problem keeps
them (by media id) and the editor never uploads the same picture twice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.config.model import Config
from bridge.convert.videos import VideoReason
from bridge.store.models import Actor, Media, MediaState, Post, User
from bridge.publishing.drafts import usable_media
from bridge.publishing.uploads import UploadReason, caption_video, upload_image, upload_video
from bridge.web.editor.compose_form import ComposeForm, ImageSlot, captions_problem, image_problem, video_problem
from bridge.web.messages import N_, Problem

GONE = N_("Image %(n)s is no longer available. Upload it again.")
VIDEO_GONE = N_("The video is no longer available. Upload it again.")
VIDEO_OFF = N_("This server does not take videos.")


async def store_images(session: AsyncSession, config: Config, user: User, form: ComposeForm,
                       post: Post | None) -> list[Problem]:
    """Uploads new files and checks kept ones; the caller commits, whatever else is wrong with the form."""
    actor_id = await session.scalar(select(Actor.id).where(Actor.name == form.actor))
    problems: list[Problem] = []
    for slot in form.images:
        if slot.remove:
            continue
        if slot.upload is not None:
            problem = await _upload(session, config, user, form.actor, slot)
        elif slot.media_id is not None:
            problem = await _keep(session, actor_id, slot, post)
        else:
            continue
        if problem is not None:
            problems.append(problem)
    if not form.video.remove:
        problems += await _store_video(session, config, user, form, actor_id, post)
    return problems


async def _store_video(session: AsyncSession, config: Config, user: User, form: ComposeForm, actor_id: int | None,
                       post: Post | None) -> list[Problem]:
    """The video is stored with its captions; captions or "no speech" given later go onto the stored video."""
    slot = form.video
    if slot.upload is not None:
        # Stored without captions first: a wrong captions file then costs a corrected file, not the upload.
        uploaded = await upload_video(session, config, user, form.actor, slot.upload, no_speech=slot.no_speech)
        slot.upload = None
        if not uploaded.ok:
            slot.media_id = None
            if uploaded.reason is UploadReason.VIDEO_DISABLED:
                return [Problem("video", VIDEO_OFF)]
            return [video_problem(uploaded.video_reason, config)]
        result = await caption_video(config, user, form.actor, uploaded.media, slot.captions, slot.no_speech)
    elif slot.media_id is not None:
        media = await session.get(Media, slot.media_id)
        if not usable_media(media, actor_id, post) or not media.is_video:
            slot.media_id, slot.poster = None, None
            return [Problem("video", VIDEO_GONE)]
        if media.state == MediaState.FAILED:  # its job gave up: the reason, and a new file is asked for
            slot.media_id, slot.poster, slot.processing = None, None, False
            return [video_problem(VideoReason(media.failure or VideoReason.CONVERT_FAILED), config)]
        result = await caption_video(config, user, form.actor, media, slot.captions, slot.no_speech)
    else:
        return []
    slot.captions = None
    if result.reason is UploadReason.CAPTIONS_REJECTED:
        return [captions_problem(result.caption_reason, result.caption_line)]
    if not result.ok:
        slot.media_id = None
        return [video_problem(result.video_reason, config)]
    slot.media_id, slot.poster = result.media.id, result.media.poster_filename
    slot.has_captions = bool(result.media.captions_filename)
    slot.processing = result.media.state == MediaState.PROCESSING
    return []


async def _upload(session: AsyncSession, config: Config, user: User, actor: str, slot: ImageSlot
                  ) -> Problem | None:
    # Stored without a description: the draft carries the typed one, and the post service checks and applies it.
    result = await upload_image(session, config, user, actor, slot.upload)
    slot.upload = None
    if result.ok:
        slot.media_id, slot.preview = result.media.id, result.media.filename
        return None
    slot.media_id = None
    if result.reason is UploadReason.IMAGE_REJECTED:
        return image_problem(slot, result.image_reason, config)
    return None  # the account was checked before anything was stored


async def _keep(session: AsyncSession, actor_id: int | None, slot: ImageSlot, post: Post | None) -> Problem | None:
    """An image uploaded with an earlier try of this form: same account, not used by another post."""
    media = await session.get(Media, slot.media_id)
    if not usable_media(media, actor_id, post):
        slot.media_id, slot.preview = None, None
        return Problem(f"image{slot.index}", GONE, {"n": slot.number})
    slot.preview = media.filename  # its description is the draft's, applied by the post service
    return None
