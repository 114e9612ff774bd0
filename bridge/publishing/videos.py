"""The `video.process` job: converts an uploaded video (stored raw by `uploads.upload_video`) into the MP4 and
poster that will be published, then deletes the raw file and marks the media ready, or failed with its reason.

The raw file stays until the job has decided, so a worker killed mid-conversion loses nothing: its lock
expires, the job is claimed again and starts over from the raw file.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.convert.videos import ProcessedVideo, VideoReason, convert_video, probe_video
from bridge.queue.context import JobOutcome, JobStatus, WorkerContext
from bridge.runtime.media_storage import MediaStorage, media_key, media_storage
from bridge.store.models import Job, Media, MediaState

log = logging.getLogger("stadtbote.videos")

PROCESS_JOB = "video.process"
PROCESS_ATTEMPTS = 5
# Videos are probed and converted in ffmpeg processes; two at once is what two cores bear next to the server.
VIDEO_SLOTS = asyncio.Semaphore(2)
# Worth another try later (the tools may be installed meanwhile, the machine less busy); anything else is final.
PASSING = (VideoReason.FFMPEG_MISSING, VideoReason.PROBE_TIMEOUT)


async def handle_process(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    media = await session.get(Media, int(job.payload["media_id"]))
    if media is None or media.state != MediaState.PROCESSING or not media.raw_filename:
        return JobOutcome(JobStatus.DONE, VideoReason.GONE)  # purged unused, or settled by an earlier run
    storage = media_storage(ctx.config)
    raw_key = media_key(media.raw_filename)
    await storage.ensure_local([raw_key])  # ffmpeg reads a file: a bucket's object is copied here first
    source = storage.local_path(raw_key)
    if not source.is_file():
        return await _settle(session, storage, media, VideoReason.RAW_MISSING)
    async with VIDEO_SLOTS:
        probe = await probe_video(source)
        video = await convert_video(source, probe, ctx.config.limits) if probe.ok else ProcessedVideo(probe.reason)
    if video.reason in PASSING and job.attempts < job.max_attempts:
        return JobOutcome(JobStatus.RETRY, video.reason)
    if video.ok:
        await storage.put(media_key(media.filename), video.data, video.mime_type)
        if video.poster:
            media.poster_filename = f"{media.id:x}-poster.jpg"
            await storage.put(media_key(media.poster_filename), video.poster, "image/jpeg")
        media.width, media.height, media.size = video.width, video.height, len(video.data)
        media.duration_ms = round(video.seconds * 1000)
    return await _settle(session, storage, media, video.reason)


async def _settle(session: AsyncSession, storage: MediaStorage, media: Media, reason: VideoReason) -> JobOutcome:
    """Ready or failed, committed before the raw file goes: a crash in between leaves a file, never a
    processing row without its file."""
    raw = media.raw_filename
    media.state = MediaState.READY if reason is VideoReason.OK else MediaState.FAILED
    media.failure = None if reason is VideoReason.OK else str(reason)
    media.raw_filename = None
    await session.commit()
    if raw:
        await storage.delete([media_key(raw)])
        storage.local_path(media_key(raw)).unlink(missing_ok=True)  # a bucket's local copy
    log.info("video media %s: %s", media.id, reason)
    return JobOutcome(JobStatus.DONE, reason)


def handlers() -> dict:
    return {PROCESS_JOB: handle_process}
