"""`POST /api/v2/media` (and the older `/api/v1/media`): one image, or one video, with its description.

A video also takes `captions` (a WebVTT file or text) or `no_speech=true`; without either it is stored, but a
status with it is refused until they are there (as on the web form). A video is converted by a queue job,
as on Mastodon: the upload answers 202 with `url: null`, `GET /api/v1/media/:id` 206 until it is done (then
200, or 422 with the reason when it failed), and a status with it is refused (422) until then.

Alt text is mandatory in Stadtbote. The web form may mark an image "decorative"; the API has no such
choice, because a script that sends no description has almost always simply forgotten it.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.mastodon import media_to_attachment
from bridge.convert.videos import ACCEPTED_TYPES as VIDEO_TYPES, VideoReason
from bridge.publishing.uploads import UploadReason, describe_image, upload_image, upload_video
from bridge.store.models import ApiToken, Media, MediaState
from bridge.web.api.accounts import PRIVATE
from bridge.web.api.request import NOT_FOUND, Params, api_error, authorize, path_id, read_params, validation_error

MISSING_FILE = 'file can\'t be blank: send the image as the multipart field "file"'
MISSING_DESCRIPTION = ("description can't be blank: Stadtbote requires alt text for every image; "
                       "describe what the image shows")

PROCESSING_FAILED = "processing failed"


async def upload_media(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        params = await read_params(request)
        upload = params.file("file")
        if upload is None:
            raise validation_error(MISSING_FILE)
        description = params.get("description")
        description = description.strip() if isinstance(description, str) else ""
        if not description:
            raise validation_error(MISSING_DESCRIPTION)
        _check_focus(params)
        if is_video(upload):  # the body's file part is on disk already: read in chunks, never whole
            result = await upload_video(session, config, token.user, token.actor.name, upload.file,
                                        description, _captions(params), _flag(params.get("no_speech")))
        else:
            result = await upload_image(session, config, token.user, token.actor.name, upload.file.read(),
                                        alt=description)
        if not result.ok:
            if result.caption_line:
                raise validation_error(f"captions line {result.caption_line}: {result.description}")
            if result.reason is UploadReason.ACTOR_NOT_ALLOWED:
                raise api_error(403, result.description)
            raise validation_error(result.description)
        await session.commit()
        body = media_to_attachment(result.media, Uris.for_base(config.instance.base_url))
    return web.json_response(body, status=_status_of(result.media), headers=PRIVATE)


def _status_of(media: Media) -> int:
    """Mastodon's codes: 202 for an upload still processing (200 once it is ready)."""
    return 202 if media.state == MediaState.PROCESSING else 200


def is_video(upload: web.FileField) -> bool:
    """By the type the client declares, or the file name's ending when it declares none."""
    name = (upload.filename or "").lower()
    return upload.content_type in VIDEO_TYPES or (upload.content_type in ("", "application/octet-stream")
                                                  and name.endswith((".mp4", ".webm", ".mov")))


def _captions(params: Params) -> bytes | None:
    captions = params.file("captions")
    if captions is not None:
        return captions.file.read()
    text = params.get("captions")
    return text.encode() if isinstance(text, str) and text.strip() else None


def _flag(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1", "on"))


async def _unattached(session: AsyncSession, media_id: int, token: ApiToken) -> Media:
    """An image of the token's account not yet in a post; as Mastodon, any other is "not found"."""
    media = await session.scalar(select(Media).where(Media.id == media_id, Media.actor_id == token.actor_id,
                                                     Media.post_id.is_(None)))
    if media is None:
        raise api_error(404, NOT_FOUND)
    return media


def _check_focus(params: Params) -> None:
    """`focus` is "x,y" with both in [-1, 1]; accepted and ignored (images are shown uncropped)."""
    focus = params.get("focus")
    if not focus:
        return
    try:
        x, y = (float(part) for part in focus.split(","))
    except ValueError:
        raise validation_error('focus must be two numbers between -1 and 1, as "x,y"') from None
    if not (-1 <= x <= 1 and -1 <= y <= 1):
        raise validation_error('focus must be two numbers between -1 and 1, as "x,y"')


async def show_media(request: web.Request) -> web.Response:
    config, media_id = request.app[CONFIG], path_id(request)
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        media = await _unattached(session, media_id, token)
        await session.commit()
    if media.state == MediaState.FAILED:
        raise validation_error(f"{PROCESSING_FAILED}: {VideoReason(media.failure).description}")
    # 206 while the job still converts it: a client asks again, as it does Mastodon.
    return web.json_response(media_to_attachment(media, Uris.for_base(config.instance.base_url)),
                             status=206 if media.state == MediaState.PROCESSING else 200, headers=PRIVATE)


async def update_media(request: web.Request) -> web.Response:
    config, media_id = request.app[CONFIG], path_id(request)
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        media = await _unattached(session, media_id, token)
        params = await read_params(request)
        _check_focus(params)
        description = params.get("description")
        if description is not None:
            if not description.strip():
                raise validation_error(MISSING_DESCRIPTION)
            result = describe_image(token.user, token.actor.name, media, description)
            if not result.ok:
                raise api_error(403, result.description) if result.reason is UploadReason.ACTOR_NOT_ALLOWED \
                    else validation_error(result.description)
        await session.commit()
    return web.json_response(media_to_attachment(media, Uris.for_base(config.instance.base_url)), headers=PRIVATE)


def setup(app: web.Application) -> None:
    app.router.add_get(r"/api/v1/media/{id}", show_media)
    app.router.add_put(r"/api/v1/media/{id}", update_media)
    app.router.add_post("/api/v2/media", upload_media)
    app.router.add_post("/api/v1/media", upload_media)  # still used by many client libraries
