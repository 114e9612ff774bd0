"""Mastodon's `Idempotency-Key`: a retried request with the same key from the same token returns the
post made the first time instead of a duplicate.

The key row is written in the same transaction as the post, so either both exist or neither; two
racing requests collide on the (token, key) unique constraint and the loser reads the winner's post.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.models import IdempotencyKey, Post

# Mastodon keeps keys for one hour; a script that reuses a key later means a new post.
KEY_LIFETIME = timedelta(hours=1)
MAX_KEY = 200  # the column width; longer keys are stored as their SHA-256


def normalise(key: str | None) -> str | None:
    key = (key or "").strip()
    if not key:
        return None
    return key if len(key) <= MAX_KEY else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


async def find_post(session: AsyncSession, token_id: int, key: str, now: datetime) -> Post | None:
    """The post an earlier request with this key made, if the key is still fresh; stale keys go."""
    row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.token_id == token_id,
                                                            IdempotencyKey.key == key))
    if row is None:
        return None
    if row.created_at <= now - KEY_LIFETIME:
        await session.delete(row)
        await session.flush()
        return None
    return await session.get(Post, row.post_id)


def remember(session: AsyncSession, token_id: int, key: str, post_id: int, now: datetime) -> None:
    session.add(IdempotencyKey(token_id=token_id, key=key, post_id=post_id, created_at=now))


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """For a periodic cleanup job: keys past their lifetime protect nothing any more."""
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - KEY_LIFETIME))
    return result.rowcount
