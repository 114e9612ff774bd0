"""A video on X: the chunked upload of `POST /2/media/upload` (docs.x.com/x-api/media/quickstart/media-upload-chunked),
as multipart forms like the image upload: INIT (media_type, total_bytes, media_category=tweet_video), APPEND per
part of at most 5 MB with its segment_index, FINALIZE; then STATUS (`GET /2/media/upload?command=STATUS`) while
`processing_info.state` is pending or in_progress. The description becomes the alt text (`/2/media/metadata`);
the captions go as SubRip, uploaded the same way (media_category=subtitles) and tied to the video with
`POST /2/media/subtitles` in the post's language.

Media alone is seen by nobody, so every failure here is safe to repeat (nothing was posted yet).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import timedelta
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError

from bridge.platforms.connectors.base import Outcome, Reason, Result, VideoView
from bridge.platforms.connectors.http import Answer, form, short
from bridge.platforms.connectors.videos import chunks, srt_of, wait_for
from bridge.platforms.connectors.x_api import XAuth, classify

PENDING = ("pending", "in_progress")


async def upload_video(auth: XAuth, video: VideoView, language: str, clock, waits, chunk_bytes: int,
                       alt_limit: int, known: str | None = None,
                       keep: Callable[[str], None] = lambda media_id: None) -> str | Result:
    """The media id of the processed video with its alt text and subtitles, or why there is none. `known`: the
    media id an earlier attempt uploaded (X keeps media a day): still there, it is not uploaded again; `keep` is
    told the id of a new upload, so that an attempt that ends while X still processes it is not repeated."""
    uploaded = await _status(auth, known) if known else None
    if uploaded is None:
        try:
            uploaded = await _upload(auth, video.mime_type, video.size, "tweet_video",
                                     chunks(video.path, chunk_bytes))
        except OSError:
            return Result(Outcome.REJECTED, Reason.REJECTED, "the video file could not be read")
        if isinstance(uploaded, Result):
            return uploaded
        keep(uploaded[0])
    media_id, info = uploaded
    processed = await _processed(auth, media_id, info, clock, waits)
    if processed is not None:
        return processed
    if video.description:
        described = await auth.request("POST", "/2/media/metadata", json_body={
            "id": media_id, "metadata": {"alt_text": {"text": video.description[:alt_limit]}}})
        failure = described if isinstance(described, Result) else classify(described, clock(), write=False)
        if failure is not None:
            return failure
    return await _subtitles(auth, media_id, srt_of(video), language, clock) or media_id


async def _upload(auth: XAuth, mime: str, size: int, category: str,
                  parts: Iterable[bytes]) -> tuple[str, dict] | Result:
    """INIT, APPEND of each part in order, FINALIZE: the media id and the processing info."""
    answer = await _command(auth, {"command": "INIT", "media_type": mime, "total_bytes": str(size),
                                   "media_category": category})
    if isinstance(answer, Result):
        return answer
    media_id = str(answer.data["data"]["id"])
    parts = iter(parts)
    index = -1
    while (part := await asyncio.to_thread(next, parts, None)) is not None:  # each part read off the loop
        index += 1
        appended = await _command(auth, {"command": "APPEND", "media_id": media_id, "segment_index": str(index)},
                                  part, empty_ok=True)
        if isinstance(appended, Result):
            return appended
    finished = await _command(auth, {"command": "FINALIZE", "media_id": media_id})
    if isinstance(finished, Result):
        return finished
    return media_id, finished.data["data"].get("processing_info")


async def _command(auth: XAuth, fields: dict, part: bytes | None = None, empty_ok: bool = False) -> Answer | Result:
    files = {"media": ("chunk", "application/octet-stream", part)} if part is not None else {}
    # A factory: a repeat after a token refresh needs a form of its own (a sent one is spent).
    answer = await auth.request("POST", "/2/media/upload", body=lambda: form(fields, files))
    if isinstance(answer, Result):
        return answer
    if empty_ok and answer.failure is None and 200 <= answer.status < 300 and not answer.malformed:
        return answer  # APPEND may answer 2xx without a body
    failure = classify(answer, auth.clock(), write=False)
    if failure is not None:
        return failure
    data = answer.data.get("data") if isinstance(answer.data, dict) else None
    if not empty_ok and (not isinstance(data, dict) or not data.get("id")):
        return Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, f"no media id after {fields['command']}")
    return answer


async def _status(auth: XAuth, media_id: str) -> tuple[str, dict] | None:
    """An earlier upload X still has (processed or processing), or None: upload again."""
    answer = await auth.request("GET", "/2/media/upload?" + urlencode({"command": "STATUS", "media_id": media_id}))
    data = answer.data.get("data") if isinstance(answer, Answer) and answer.ok and isinstance(answer.data, dict) \
        else None
    info = data.get("processing_info") if isinstance(data, dict) else None
    if not isinstance(info, dict) or info.get("state") not in (*PENDING, "succeeded"):
        return None
    return media_id, info


async def _processed(auth: XAuth, media_id: str, info, clock, waits) -> Result | None:
    """None once X has processed the video; a failure says why; still processing after the waits: try later."""
    latest = info

    async def check() -> Result | dict | None:
        nonlocal latest
        answer = await auth.request("GET", "/2/media/upload?" + urlencode({"command": "STATUS", "media_id": media_id}))
        if isinstance(answer, Result):
            return answer
        failure = classify(answer, clock(), write=False)
        if failure is not None:
            return failure
        data = answer.data.get("data") if isinstance(answer.data, dict) else None
        latest = data.get("processing_info") if isinstance(data, dict) else None
        return None if _pending(latest) else (latest or {})

    if _pending(info):
        settled = await wait_for(check, tuple(waits))
        if isinstance(settled, Result):
            return settled
        if settled is None:
            return Result(Outcome.UNAVAILABLE, Reason.TIMEOUT, "X is still processing the video",
                          retry_at=clock() + timedelta(seconds=max(30, int(latest.get("check_after_secs") or 0))))
        info = settled
    if isinstance(info, dict) and info.get("state") == "failed":
        error = info.get("error") if isinstance(info.get("error"), dict) else {}
        return Result(Outcome.REJECTED, Reason.REJECTED,
                      "X could not process the video: " + (short(error.get("message") or error.get("name"))
                                                           or "failed"))
    return None


def _pending(info) -> bool:
    return isinstance(info, dict) and info.get("state") in PENDING


async def _subtitles(auth: XAuth, media_id: str, srt: str, language: str, clock) -> Result | None:
    """The captions as a subtitles upload tied to the video; None when done or when there are none."""
    if not srt:
        return None
    data = srt.encode()
    uploaded = await _upload(auth, "text/srt", len(data), "subtitles", [data])
    if isinstance(uploaded, Result):
        return uploaded
    code = (language or "de").split("-")[0].lower()
    answer = await auth.request("POST", "/2/media/subtitles", json_body={
        "id": media_id, "media_category": "TweetVideo",
        "subtitles": {"id": uploaded[0], "language_code": code.upper(), "display_name": _language_name(code)}})
    return answer if isinstance(answer, Result) else classify(answer, clock(), write=False)


def _language_name(code: str) -> str:
    """The language's own name, as X shows it in the player's subtitle menu ("Deutsch")."""
    try:
        return (Locale.parse(code).get_display_name(code) or code).capitalize()
    except (ValueError, UnknownLocaleError):
        return code.upper()
