"""Profile pictures of the authority's accounts: the configured file, re-encoded once to a square-bounded
PNG (no metadata) and served from data_dir, so what servers and readers load is always small and clean."""

from __future__ import annotations

import io
from pathlib import Path

from aiohttp import web
from PIL import Image, ImageOps, UnidentifiedImageError

from bridge.appkeys import CONFIG
from bridge.convert.images import media_dir

SIZE = 400  # Mastodon shows avatars at 400×400 at most


def avatar_file(data_dir: Path, name: str, source: Path) -> Path | None:
    """The re-encoded avatar, made again when the configured file is newer; None if it is no image."""
    target = data_dir / "avatars" / f"{name}.png"
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    try:
        with Image.open(source) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((SIZE, SIZE))
            out = io.BytesIO()
            image.convert("RGBA").save(out, "PNG", optimize=True)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    return _write(target, out.getvalue())


def _write(target: Path, data: bytes) -> Path:
    """Atomically, so a reader never gets half a picture."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


async def serve_avatar(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    actor = config.actor(request.match_info["name"])
    if actor is None or not actor.has_avatar:
        raise web.HTTPNotFound()
    if actor.avatar_file:  # uploaded in the browser, already re-encoded (`bridge.publishing.profiles`)
        return _picture(media_dir(config.instance.data_dir) / actor.avatar_file)
    path = avatar_file(config.instance.data_dir, actor.name, actor.avatar)
    if path is None:
        raise web.HTTPNotFound()
    return _picture(path)


async def serve_header(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    actor = config.actor(request.match_info["name"])
    if actor is None or not actor.header_file:
        raise web.HTTPNotFound()
    return _picture(media_dir(config.instance.data_dir) / actor.header_file)


def _picture(path: Path) -> web.StreamResponse:
    # Storage: the media folder (`bridge.convert.images.media_dir`); another backend serves from there too.
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=86400",
                                           "Content-Type": "image/png"})


def setup(app: web.Application) -> None:
    app.router.add_get("/avatars/{name}.png", serve_avatar)
    app.router.add_get("/headers/{name}.png", serve_header)
