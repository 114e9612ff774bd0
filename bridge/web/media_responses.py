"""Answering a request with a file from the media storage: a local file as it is (the kernel sends it), a
bucket's object streamed through this process, or — only for public images, and only when `[media]
public_url` names a host of the authority — a redirect there, so readers never meet a third party."""

from __future__ import annotations

from aiohttp import web

from bridge.runtime.media_storage import LocalStorage, MediaStorage


async def stored_response(request: web.Request, storage: MediaStorage, key: str, content_type: str,
                          headers: dict[str, str], public: bool) -> web.StreamResponse:
    if isinstance(storage, LocalStorage):
        path = storage.local_path(key)
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={**headers, "Content-Type": content_type})
    url = storage.public_url(key) if public else None
    if url is not None:
        raise web.HTTPFound(url, headers={"Cache-Control": "public, max-age=3600"})  # public_url may change
    found = await storage.stat(key)
    if found is None:
        raise web.HTTPNotFound()
    response = web.StreamResponse(headers={**headers, "Content-Type": content_type})
    response.content_length = found.size
    response.last_modified = found.modified
    await response.prepare(request)
    if request.method != "HEAD":
        async for chunk in storage.stream(key):
            await response.write(chunk)
    await response.write_eof()
    return response
