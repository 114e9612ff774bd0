"""A video on LinkedIn through the Videos API (learn.microsoft.com/linkedin/marketing/community-management/shares/
videos-api): `POST /rest/videos?action=initializeUpload` with the owner and `fileSizeBytes` (and `uploadCaptions`
when there are captions) answers the video URN, an upload token and upload instructions — byte ranges, each PUT
to its URL, whose ETags `finalizeUpload` takes in order. Captions go as SubRip to `captionsUploadUrl`. LinkedIn
then processes the video (`GET /rest/videos/{urn}`: PROCESSING, AVAILABLE or PROCESSING_FAILED); the post names
it once AVAILABLE. Nothing here is visible to anyone: every failure is safe to repeat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from bridge.platforms.connectors.base import Outcome, Reason, Result, VideoView
from bridge.platforms.connectors.http import call, short
from bridge.platforms.connectors.linkedin_rest import Rest, classify, urn_path
from bridge.platforms.connectors.videos import read_range, srt_of, wait_for


async def upload_video(http, rest: Rest, owner: str, video: VideoView, clock, waits, known: str | None = None,
                       keep: Callable[[str], None] = lambda urn: None) -> str | Result:
    """The URN of the uploaded, processed video, or why there is none. `known`: the URN an earlier attempt
    uploaded; while LinkedIn has it (processing or available) it is not uploaded again. `keep` is told the URN
    of a new upload once it is finalized."""
    if known and await _status(rest, known, clock) in ("PROCESSING", "AVAILABLE"):
        return await _available(rest, known, clock, waits) or known
    srt = srt_of(video)
    answer = await rest.request("POST", "videos", raw_query="action=initializeUpload", json_body={
        "initializeUploadRequest": {"owner": owner, "fileSizeBytes": video.size, "uploadCaptions": bool(srt),
                                    "uploadThumbnail": False}})
    failure = classify(answer, clock(), write=False)
    value = answer.data.get("value") if failure is None and isinstance(answer.data, dict) else None
    parts = value.get("uploadInstructions") if isinstance(value, dict) else None
    if not isinstance(parts, list) or not parts or not value.get("video"):
        return failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no upload instructions")
    urn = str(value["video"])
    etags = []
    for part in parts:
        try:
            data = await asyncio.to_thread(read_range, video.path, int(part["firstByte"]), int(part["lastByte"]))
        except (OSError, KeyError, TypeError, ValueError):
            return Result(Outcome.REJECTED, Reason.REJECTED, "the video could not be read in LinkedIn's parts")
        put = await call(http, "PUT", str(part.get("uploadUrl")), body=data, content_type="application/octet-stream",
                         headers={"Authorization": f"Bearer {rest.token}"})
        failure = classify(put, clock(), write=False)
        if failure is not None:
            return failure
        if not put.headers.get("ETag"):
            return Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no ETag for an uploaded part")
        etags.append(put.headers["ETag"])
    if srt and value.get("captionsUploadUrl"):
        put = await call(http, "PUT", str(value["captionsUploadUrl"]), body=srt.encode(),
                         content_type="application/octet-stream", headers={"Authorization": f"Bearer {rest.token}"})
        failure = classify(put, clock(), write=False)
        if failure is not None:
            return failure
    done = await rest.request("POST", "videos", raw_query="action=finalizeUpload", json_body={
        "finalizeUploadRequest": {"video": urn, "uploadToken": str(value.get("uploadToken") or ""),
                                  "uploadedPartIds": etags}})
    failure = classify(done, clock(), write=False)
    if failure is not None:
        return failure
    keep(urn)
    return await _available(rest, urn, clock, waits) or urn


async def _status(rest: Rest, urn: str, clock) -> str | Result:
    answer = await rest.request("GET", f"videos/{urn_path(urn)}")
    failure = classify(answer, clock(), write=False)
    return failure or str((answer.data if isinstance(answer.data, dict) else {}).get("status") or "")


async def _available(rest: Rest, urn: str, clock, waits) -> Result | None:
    """None once LinkedIn has processed the video; a refusal with its reason; still processing: try later."""
    async def check() -> Result | bool | None:
        answer = await rest.request("GET", f"videos/{urn_path(urn)}")
        failure = classify(answer, clock(), write=False)
        if failure is not None:
            return failure
        data = answer.data if isinstance(answer.data, dict) else {}
        if data.get("status") == "PROCESSING_FAILED":
            return Result(Outcome.REJECTED, Reason.REJECTED, "LinkedIn could not process the video: "
                          + (short(data.get("processingFailureReason")) or "processing failed"))
        return True if data.get("status") == "AVAILABLE" else None

    settled = await wait_for(check, (0.0, *waits))  # asked at once: an earlier attempt's video may be ready
    if settled is None:
        return Result(Outcome.UNAVAILABLE, Reason.TIMEOUT, "LinkedIn is still processing the video",
                      retry_at=clock() + timedelta(seconds=30))
    return settled if isinstance(settled, Result) else None
