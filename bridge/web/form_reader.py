"""Forms of signed-in people, read part by part, so that an oversized image costs its image, not the form.

aiohttp's `request.post()` refuses a body larger than `client_max_size` as a whole (413): the editor who
attached a 60 MB photo would get an error page and lose everything typed. Here a file part keeps at most
`file_cap + 1` bytes — enough for the media check to answer "larger than the limit", which the form shows
next to the text as typed — and the rest of it is read and dropped, never stored. Text fields are kept
whole up to `text_cap` in all. Only a body beyond `body_cap`, far beyond any honest form, is refused.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.web_request import FileField
from multidict import MultiDict, MultiDictProxy

CHUNK = 64 * 1024
TEXT_CAP = 1024 * 1024  # all text fields of a form together


@dataclass(frozen=True)
class FormCaps:
    file_cap: int  # bytes kept of one file part (one more is kept, so that "too large" can be told)
    max_files: int  # file parts kept; later ones are read and dropped
    text_cap: int  # bytes of all text fields together
    body_cap: int  # bytes read in all, dropped ones included


async def read_form(request: web.Request, caps: FormCaps | None) -> MultiDictProxy:
    """The posted form: multipart bodies read with `caps`, anything else (and everything without `caps`) by
    aiohttp as usual. A body that cannot be read is a 400 with a reason, never a 500."""
    if caps is None or request.content_type != "multipart/form-data":
        try:
            return await request.post()
        except (ValueError, LookupError) as exc:  # e.g. an unknown charset, bytes that are not in it
            raise web.HTTPBadRequest(text="The form could not be read.") from exc
    return await _read_multipart(request, caps)


async def _read_multipart(request: web.Request, caps: FormCaps) -> MultiDictProxy:
    out: MultiDict = MultiDict()
    total = text = files = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                raise web.HTTPBadRequest(text="The form could not be read.")
            kept = bytearray()
            keep = caps.file_cap + 1 if part.filename and files < caps.max_files else 0
            while chunk := await part.read_chunk(CHUNK):
                total += len(chunk)
                if total > caps.body_cap:
                    raise web.HTTPRequestEntityTooLarge(caps.body_cap, total)
                if not part.filename:
                    text += len(chunk)
                    if text > caps.text_cap:
                        raise web.HTTPRequestEntityTooLarge(caps.text_cap, text)
                    kept.extend(chunk)
                elif len(kept) < keep:
                    kept.extend(chunk[:keep - len(kept)])
            if part.filename and not keep:
                continue  # a file beyond the form's slots: read, never kept
            _add(out, part, bytes(kept))
            files += 1 if part.filename else 0
    except (ValueError, LookupError) as exc:  # a broken multipart body (boundary, headers, unknown charset)
        raise web.HTTPBadRequest(text="The form could not be read.") from exc
    return MultiDictProxy(out)


def _add(out: MultiDict, part: BodyPartReader, data: bytes) -> None:
    content_type = part.headers.get(hdrs.CONTENT_TYPE)
    if part.filename:
        out.add(part.name, FileField(part.name, part.filename, io.BytesIO(data),
                                     content_type or "application/octet-stream", part.headers))
    elif content_type is None or content_type.startswith("text/"):
        out.add(part.name, data.decode(part.get_charset(default="utf-8"), errors="replace"))
    else:
        out.add(part.name, data)
