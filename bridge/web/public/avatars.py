"""Profile pictures of the authority's accounts: the configured file, re-encoded once to a square-bounded
PNG (no metadata) and kept in the media storage, so what servers and readers load is always small and clean."""

from __future__ import annotations

import asyncio
import importlib
import io
from pathlib import Path

from aiohttp import web

from bridge.appkeys import CONFIG
from bridge.runtime.media_storage import MediaStorage, avatar_key, media_key, media_storage
from bridge.web.media_responses import stored_response

SIZE = 400  # Mastodon shows avatars at 400×400 at most


async def store_avatar(storage: MediaStorage, name: str, source: Path) -> bool:
    """The re-encoded avatar is in the storage, made again when the configured file is newer; False if the
    file is no image."""
    key = avatar_key(name)
    stored = await storage.stat(key)
    # A bucket keeps whole seconds: the source's mtime is compared at that resolution.
    if stored is not None and stored.modified.timestamp() >= int(source.stat().st_mtime):
        return True
    data = await asyncio.to_thread(_reencode, source)
    if data is None:
        return False
    await storage.put(key, data, "image/png")
    return True


def _reencode(source: Path) -> bytes | None:
    Image, ImageOps = importlib.import_module("PIL.Image"), importlib.import_module("PIL.ImageOps")  # not at start
    try:
        with Image.open(source) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((SIZE, SIZE))
            out = io.BytesIO()
            image.convert("RGBA").save(out, "PNG", optimize=True)
    except (Image.UnidentifiedImageError, OSError, ValueError):
        return None
    return out.getvalue()


async def serve_avatar(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    actor = config.actor(request.match_info["name"])
    if actor is None or not actor.has_avatar:
        raise web.HTTPNotFound()
    storage = media_storage(config)
    if actor.avatar_file:  # uploaded in the browser, already re-encoded (`bridge.publishing.profiles`)
        return await _picture(request, storage, media_key(actor.avatar_file))
    if not await store_avatar(storage, actor.name, actor.avatar):
        raise web.HTTPNotFound()
    return await _picture(request, storage, avatar_key(actor.name))


async def serve_header(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    actor = config.actor(request.match_info["name"])
    if actor is None or not actor.header_file:
        raise web.HTTPNotFound()
    return await _picture(request, media_storage(config), media_key(actor.header_file))


async def _picture(request: web.Request, storage: MediaStorage, key: str) -> web.StreamResponse:
    return await stored_response(request, storage, key, "image/png",
                                 {"Cache-Control": "public, max-age=86400", "Content-Type": "image/png"}, True)


def setup(app: web.Application) -> None:
    app.router.add_get("/avatars/{name}.png", serve_avatar)
    app.router.add_get("/headers/{name}.png", serve_header)
