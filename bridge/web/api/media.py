"""`POST /api/v2/media` (and the older `/api/v1/media`): one image with its description.

Alt text is mandatory in Stadtbote. The web form may mark an image "decorative"; the API has no such
choice, because a script that sends no description has almost always simply forgotten it.
"""

from __future__ import annotations

from aiohttp import web

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.mastodon import media_to_attachment
from bridge.publishing.uploads import UploadReason, upload_image
from bridge.web.api.accounts import PRIVATE
from bridge.web.api.request import api_error, authorize, read_params, validation_error

MISSING_FILE = 'file can\'t be blank: send the image as the multipart field "file"'
MISSING_DESCRIPTION = ("description can't be blank: Stadtbote requires alt text for every image; "
                       "describe what the image shows")


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
        # `focus` is accepted and ignored: images are shown uncropped.
        result = await upload_image(session, config, token.user, token.actor.name, upload.file.read(),
                                    alt=description)
        if not result.ok:
            if result.reason is UploadReason.ACTOR_NOT_ALLOWED:
                raise api_error(403, result.description)
            raise validation_error(result.description)
        await session.commit()
        body = media_to_attachment(result.media, Uris.for_base(config.instance.base_url))
    return web.json_response(body, headers=PRIVATE)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v2/media", upload_media)
    app.router.add_post("/api/v1/media", upload_media)  # still used by many client libraries
