"""A video on Bluesky through its video service (docs.bsky.app, "Uploading video"): the service checks the
account's daily limits, takes the MP4 with a service token the PDS issues for `uploadBlob` on the account's
behalf, processes it and stores the result on the PDS as a blob; the post embeds that blob
(`app.bsky.embed.video`) with the description as alt text and the WebVTT captions as blobs of their own.

Nothing here creates a post: every failure is safe to retry (a timeout too), so none is UNKNOWN."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from bridge.platforms.connectors.base import Outcome, Reason, Result, VideoView
from bridge.platforms.connectors.bluesky_xrpc import Xrpc, classify
from bridge.platforms.connectors.http import Answer, call, file_body, file_size, short
from bridge.platforms.connectors.images import read_file
from bridge.platforms.connectors.videos import POLL_DELAYS, upload_seconds, wait_for

VIDEO_SERVICE = "https://video.bsky.app"
VIDEO_BYTES = 100_000_000  # the video service's limit (the embed lexicon allows more; the service decides)
VIDEO_SECONDS = 180  # three minutes
CAPTION_BYTES = 20_000  # app.bsky.embed.video#caption: a text/vtt blob of at most 20 kB
TOKEN_LIFETIME = timedelta(minutes=30)  # the tutorial's advice for the upload token: processing takes a while
DONE, FAILED = "JOB_STATE_COMPLETED", "JOB_STATE_FAILED"
CAPTIONS_TOO_LARGE = ("The captions file is larger than Bluesky takes (20 kB): the video goes without captions; "
                      "they are on the city's page.")


def captions_fit(video: VideoView) -> bool:
    """Whether the video's captions go along (none, or a spoken video's file within the limit)."""
    if not video.captions_path or video.no_speech:
        return True
    try:
        return os.path.getsize(video.captions_path) <= CAPTION_BYTES
    except OSError:  # not copied here yet (a preview of a bucket's file): sending checks the bytes it reads
        return True


class VideoService:
    def __init__(self, xrpc: Xrpc, base: str, pds: str, polls: tuple[float, ...] = POLL_DELAYS) -> None:
        self.xrpc, self.base, self.polls = xrpc, base.rstrip("/"), polls
        self.pds_did = f"did:web:{urlsplit(pds).hostname}"  # the audience of the upload token: our PDS
        self.service_did = f"did:web:{urlsplit(self.base).hostname}"

    async def embed(self, video: VideoView, language: str) -> dict | Result:
        size = file_size(video.path)
        if size is None:
            return Result(Outcome.REJECTED, Reason.VIDEO_UNUSABLE, video.path.rsplit("/", 1)[-1])
        refused = await self._may_upload(size)
        if refused is not None:
            return refused
        blob = await self._upload(video.path, size)
        if isinstance(blob, Result):
            return blob
        embed = {"$type": "app.bsky.embed.video", "video": blob,
                 "aspectRatio": {"width": video.width, "height": video.height}}
        if video.description:
            embed["alt"] = video.description
        captions = await self._captions(video, language)
        if isinstance(captions, Result):
            return captions
        if captions:
            embed["captions"] = captions
        return embed

    async def _token(self, audience: str, method: str, lifetime: timedelta | None = None) -> str | Result:
        """A service token from our PDS (`com.atproto.server.getServiceAuth`) for one method at one service."""
        params = {"aud": audience, "lxm": method}
        if lifetime is not None:
            params["exp"] = int((self.xrpc.clock() + lifetime).timestamp())
        answer = await self.xrpc.request("GET", "com.atproto.server.getServiceAuth", params=params)
        if isinstance(answer, Result):
            return answer
        failure = classify(answer, self.xrpc.clock(), write=False)
        token = answer.data.get("token") if failure is None and isinstance(answer.data, dict) else None
        return token if isinstance(token, str) and token else (
            failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no service token"))

    async def _service(self, method: str, nsid: str, token: str | None, params: dict | None = None,
                       path: str | None = None, size: int = 0) -> Answer:
        """A call to the video service; with `path`, its file of `size` bytes as the raw body, streamed."""
        url = f"{self.base}/xrpc/{nsid}" + (f"?{urlencode(params)}" if params else "")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await call(self.xrpc.http, method, url, headers=headers, body=file_body(path) if path else None,
                          content_type="video/mp4" if path else None,
                          timeout=upload_seconds(self.xrpc.http, size) if path else None)

    async def _may_upload(self, size: int) -> Result | None:
        """`app.bsky.video.getUploadLimits`: the account may be unverified or over its daily videos or bytes."""
        token = await self._token(self.service_did, "app.bsky.video.getUploadLimits")
        if isinstance(token, Result):
            return token
        answer = await self._service("GET", "app.bsky.video.getUploadLimits", token)
        failure = classify(answer, self.xrpc.clock(), write=False)
        if failure is not None:
            return failure
        data = answer.data if isinstance(answer.data, dict) else {}
        if data.get("canUpload") is not True:
            return Result(Outcome.REJECTED, Reason.REJECTED,
                          short(data.get("message") or data.get("error") or "the video service refuses uploads"))
        remaining = data.get("remainingDailyBytes")
        if isinstance(remaining, int) and remaining < size:
            return Result(Outcome.REJECTED, Reason.REJECTED, "the account's daily video volume is used up")
        return None

    async def _upload(self, path: str, size: int) -> dict | Result:
        token = await self._token(self.pds_did, "com.atproto.repo.uploadBlob", TOKEN_LIFETIME)
        if isinstance(token, Result):
            return token
        answer = await self._service("POST", "app.bsky.video.uploadVideo", token,
                                     {"did": self.xrpc.did, "name": "video.mp4"}, path, size)
        data = answer.data if isinstance(answer.data, dict) else {}
        if answer.status == 409 and data.get("jobId"):
            job = data  # the service has this very file already: its job is followed like a new one
        else:
            failure = classify(answer, self.xrpc.clock(), write=False)
            if failure is not None:
                return failure
            job = data.get("jobStatus") if isinstance(data.get("jobStatus"), dict) else data
        settled = _settled(job)
        if settled is not None:
            return settled
        job_id = job.get("jobId")
        if not isinstance(job_id, str) or not job_id:
            return Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no video job")
        done = await wait_for(lambda: self._status(job_id), self.polls)
        if done is None:  # nothing was posted: the next attempt uploads again (the service knows the file)
            return Result(Outcome.UNAVAILABLE, Reason.VIDEO_PROCESSING, job_id,
                          retry_at=self.xrpc.clock() + timedelta(minutes=2))
        return done

    async def _status(self, job_id: str) -> dict | Result | None:
        answer = await self._service("GET", "app.bsky.video.getJobStatus", None, {"jobId": job_id})
        failure = classify(answer, self.xrpc.clock(), write=False)
        if failure is not None:
            return failure
        job = answer.data.get("jobStatus") if isinstance(answer.data, dict) else None
        if not isinstance(job, dict):
            return Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no job status")
        return _settled(job)

    async def _captions(self, video: VideoView, language: str) -> list[dict] | Result:
        raw = await asyncio.to_thread(read_file, video.captions_path) \
            if video.captions_path and not video.no_speech else None
        if raw is None or len(raw) > CAPTION_BYTES:  # the preview said so: the video goes without them
            return []
        answer = await self.xrpc.request("POST", "com.atproto.repo.uploadBlob", body=raw, content_type="text/vtt")
        if isinstance(answer, Result):
            return answer
        failure = classify(answer, self.xrpc.clock(), write=False)
        blob = answer.data.get("blob") if failure is None and isinstance(answer.data, dict) else None
        if not isinstance(blob, dict):
            return failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no captions blob")
        return [{"lang": language, "file": blob}]


def _settled(job: dict) -> dict | Result | None:
    """The blob of a finished job, the failure of a failed one, None while it is processing."""
    state = job.get("state")
    if state == FAILED:
        return Result(Outcome.REJECTED, Reason.VIDEO_UNUSABLE,
                      short(job.get("message") or job.get("error") or "the video service could not process it"))
    if state == DONE and isinstance(job.get("blob"), dict):
        return job["blob"]
    return None
