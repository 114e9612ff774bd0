"""Images nobody can use any more leave the database and the media storage, in the daily retention run.

- Uploads never attached to a post — a form abandoned after a problem, an API upload no status used —
  after a day, as Mastodon does (a form kept open longer says the image is gone and asks for it again);
  except an image that an edit waiting for approval proposes, which is needed once the edit is approved.
- The images of deleted posts a day after the deletion: the public has had 404 for them since, the
  Delete has gone out, and a photo may show people who should not stay on the server for nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.runtime.media_storage import MediaStorage, media_key
from bridge.store.models import EditState, Media, Post, PostEdit, PostState

UNATTACHED_AFTER = timedelta(days=1)
# A media row's stored files: the image or video, a video's poster frame and captions, and the raw upload
# of a video whose job has not settled (a failed job deletes it at once; this catches what a crash left).
FILES = (Media.id, Media.filename, Media.poster_filename, Media.captions_filename, Media.raw_filename)
DELETED_POST_AFTER = timedelta(days=1)


async def purge_media(session: AsyncSession, storage: MediaStorage, now: datetime) -> dict[str, int]:
    """Rows go in the caller's transaction; stored files right away (a file whose row survives a rollback is
    answered 404 and its row goes with the next run)."""
    proposed = await _proposed_by_waiting_edits(session)
    due = {
        "unattached_media": select(*FILES).where(
            Media.post_id.is_(None), Media.created_at <= now - UNATTACHED_AFTER, Media.id.not_in(proposed)),
        "deleted_posts_media": select(*FILES).join(Post, Post.id == Media.post_id).where(
            Post.state == PostState.DELETED, Post.deleted_at <= now - DELETED_POST_AFTER),
    }
    counts = {}
    for name, query in due.items():
        rows = (await session.execute(query)).all()
        if rows:
            await session.execute(delete(Media).where(Media.id.in_([row.id for row in rows]))
                                  .execution_options(synchronize_session=False))
        await storage.delete([media_key(name) for row in rows for name in row[1:] if name])
        counts[name] = len(rows)
    return counts


async def _proposed_by_waiting_edits(session: AsyncSession) -> list[int]:
    edits = (await session.scalars(select(PostEdit.media).where(PostEdit.state == EditState.PENDING))).all()
    return [int(image["id"]) for images in edits for image in images]
