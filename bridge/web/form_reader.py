"""Forms of signed-in people, read part by part, so that an oversized image costs its image, not the form.

aiohttp's `request.post()` refuses a body larger than `client_max_size` as a whole (413): the editor who
attached a 60 MB photo would get an error page and lose everything typed. Here a file part keeps at most
`file_cap + 1` bytes — enough for the media check to answer "larger than the limit", which the form shows
next to the text as typed — and the rest of it is read and dropped, never stored. Text fields are kept
whole up to `text_cap` in all. Only a body beyond `body_cap`, far beyond any honest form, is refused.
"""

from __future__ import annotations

import enum
import io
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import FileField
from multidict import MultiDict, MultiDictProxy

from bridge.web.messages import N_

log = logging.getLogger("stadtbote.web")

CHUNK = 64 * 1024
TEXT_CAP = 1024 * 1024  # all text fields of a form together
# NUL cannot be stored in PostgreSQL text (SQLite would keep it: the databases must agree) and a lone
# surrogate cannot be encoded at all; both are refused wherever a form, JSON body or query is read.
INVALID_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


class InputReason(enum.StrEnum):
    """Why a request's input was refused before any handler saw it."""
    UNREADABLE = "unreadable_body"  # broken multipart, unknown charset, bytes not in the charset
    INVALID_CHARACTERS = "invalid_characters"


INPUT_TEXT = {
    InputReason.UNREADABLE: N_("The form could not be read."),
    InputReason.INVALID_CHARACTERS: N_("The request contains characters that cannot be stored "
                                       "(a NUL character or a lone surrogate)."),
}
# What aiohttp raises for a body it cannot parse: a broken boundary (ValueError), an unknown charset
# (LookupError), bytes not in the charset (UnicodeDecodeError, a ValueError), a malformed part header.
UNREADABLE_BODY = (ValueError, LookupError, HttpProcessingError)
INPUT_ERRORS = {InputReason.UNREADABLE: web.HTTPBadRequest, InputReason.INVALID_CHARACTERS: web.HTTPUnprocessableEntity}


@dataclass(frozen=True)
class FormCaps:
    file_cap: int  # bytes kept of one file part (one more is kept, so that "too large" can be told)
    max_files: int  # file parts kept; later ones are read and dropped
    text_cap: int  # bytes of all text fields together
    body_cap: int  # bytes read in all, dropped ones included


async def read_form(request: web.Request, caps: FormCaps | None, *, api: bool = False) -> MultiDictProxy:
    """The posted form: multipart bodies read with `caps`, anything else (and everything without `caps`) by
    aiohttp as usual. A body that cannot be read is a 400 with a reason, never a 500."""
    if caps is None or request.content_type != "multipart/form-data":
        try:
            form = await request.post()
        except UNREADABLE_BODY as exc:
            raise refusal(InputReason.UNREADABLE, api=api) from exc
    else:
        # The body cannot be read twice: handlers take this form from `request[FORM]`, where the CSRF check
        # puts it, and never ask aiohttp again (`request.post()` on a read body was issue 16's 500s).
        form = await _read_multipart(request, caps)
    if has_invalid_characters(form.items()):
        raise refusal(InputReason.INVALID_CHARACTERS, api=api)
    return form


def check_url(request: web.Request, *, api: bool = False) -> None:
    """The decoded path and query obey the same rule as forms: a handler may look up anything in them."""
    if has_invalid_characters([("", request.path), *request.query.items()]):
        raise refusal(InputReason.INVALID_CHARACTERS, api=api)


def refusal(reason: InputReason, *, api: bool = False) -> web.HTTPException:
    """The 4xx for unusable input, for API clients as Mastodon's error JSON with the reason code; the log
    keeps the reason, never the body."""
    log.info("input refused: %s", reason)
    if api:
        body = json.dumps({"error": INPUT_TEXT[reason], "reason": str(reason)})
        return INPUT_ERRORS[reason](text=body, content_type="application/json")
    return INPUT_ERRORS[reason](text=INPUT_TEXT[reason])


def has_invalid_characters(fields: Iterable[tuple[str, object]]) -> bool:
    """Whether any name or text value (files aside) holds a character no database may store."""
    return any(INVALID_CHARACTERS.search(name) or (isinstance(value, str) and INVALID_CHARACTERS.search(value))
               for name, value in fields)


async def _read_multipart(request: web.Request, caps: FormCaps) -> MultiDictProxy:
    out: MultiDict = MultiDict()
    total = text = files = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                raise refusal(InputReason.UNREADABLE)  # only editor forms are read here
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
    except UNREADABLE_BODY as exc:
        raise refusal(InputReason.UNREADABLE) from exc
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
