"""Images and videos under /media/ (with a video's poster frame and captions): public once their post is
published, before that only for its editors."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import or_, select

from bridge.appkeys import CONFIG, SESSIONS, USER
from bridge.convert.captions import MIME_TYPE as CAPTIONS_TYPE
from bridge.runtime.media_storage import media_key, media_storage
from bridge.web.media_responses import stored_response
from bridge.store.models import Actor, Media, Post, PostState
from bridge.auth.users import may_use_actor


def setup(app: web.Application) -> None:
    app.router.add_get("/media/{filename}", serve_media, name="media")


async def serve_media(request: web.Request) -> web.StreamResponse:
    """Images of published posts are public; images of drafts only for editors of that account."""
    filename = request.match_info["filename"]
    async with request.app[SESSIONS]() as session:
        row = (await session.execute(
            select(Media, Actor.name).join(Actor, Actor.id == Media.actor_id).where(or_(Media.filename == filename, Media.poster_filename == filename,
                          Media.captions_filename == filename))
        )).first()
        if row is None:
            raise web.HTTPNotFound()
        media, actor_name = row
        post = await session.get(Post, media.post_id) if media.post_id else None
    public = post is not None and post.state == PostState.PUBLISHED
    user = request.get(USER)
    if not public and not (user is not None and may_use_actor(user, actor_name)):
        raise web.HTTPNotFound()
    headers = {"Cache-Control": "public, max-age=31536000, immutable" if public else "private, no-store"}
    content_type = {media.filename: media.mime_type, media.poster_filename: "image/jpeg",
                    media.captions_filename: CAPTIONS_TYPE}[filename]
    return await stored_response(request, media_storage(request.app[CONFIG]), media_key(filename),
                                 content_type, headers, public)
