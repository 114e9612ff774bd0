"""Likes and boosts of our posts: one row each with only what counting and undoing need — the
subject, the post, the kind and a keyed hash of the activity id (never the id itself)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.fingerprints import Kind, fingerprint
from consent.models import Interaction, Reply, Subject
from consent.moderation import ModerationState
from consent.vault import Vault


class InteractionKind(enum.StrEnum):
    LIKE = "like"
    ANNOUNCE = "announce"


async def add_interaction(session: AsyncSession, vault: Vault, subject: Subject, activity_id: str, post_id: int,
                          kind: InteractionKind, now: datetime | None = None) -> bool:
    """True when counted; False for an activity counted before (same id)."""
    activity_hash = fingerprint(vault, Kind.ACTIVITY, activity_id)
    if await session.scalar(select(Interaction.id).where(Interaction.activity_hash == activity_hash)) is not None:
        return False
    # One like (or boost) per person and post, whatever ids their server mints for repeats.
    twin = await session.scalar(select(Interaction.id).where(
        Interaction.subject_id == subject.id, Interaction.post_id == post_id, Interaction.kind == str(kind)))
    if twin is not None:
        return False
    session.add(Interaction(subject_id=subject.id, activity_hash=activity_hash, post_id=post_id, kind=str(kind),
                            created_at=now or datetime.now(timezone.utc)))
    await session.flush()
    return True


async def remove_interaction(session: AsyncSession, vault: Vault, subject: Subject, activity_id: str,
                             post_id: int | None = None, kind: InteractionKind | None = None) -> int:
    """Undo: by the undone activity's id; when that id is unknown (some servers re-mint it), by the
    person, post and kind the Undo names. Only the subject's own rows are touched."""
    by_id = await session.execute(delete(Interaction).where(
        Interaction.activity_hash == fingerprint(vault, Kind.ACTIVITY, activity_id),
        Interaction.subject_id == subject.id))
    if by_id.rowcount or post_id is None or kind is None:
        return by_id.rowcount
    by_target = await session.execute(delete(Interaction).where(
        Interaction.subject_id == subject.id, Interaction.post_id == post_id, Interaction.kind == str(kind)))
    return by_target.rowcount


async def count_for(session: AsyncSession, post_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """{post_id: {"likes": n, "boosts": n, "replies": n}} for every id asked, zeros included."""
    ids = list(dict.fromkeys(post_ids))
    counts = {post_id: {"likes": 0, "boosts": 0, "replies": 0} for post_id in ids}
    if not ids:
        return counts
    names = {str(InteractionKind.LIKE): "likes", str(InteractionKind.ANNOUNCE): "boosts"}
    rows = await session.execute(select(Interaction.post_id, Interaction.kind, func.count()).where(
        Interaction.post_id.in_(ids)).group_by(Interaction.post_id, Interaction.kind))
    for post_id, kind, number in rows.all():
        if kind in names:
            counts[post_id][names[kind]] = number
    replies = await session.execute(select(Reply.post_id, func.count()).where(
        # Hidden, spam and deleted replies are not counted: the count is what the public may know of.
        Reply.post_id.in_(ids), Reply.state.in_((ModerationState.PENDING, ModerationState.APPROVED)))
        .group_by(Reply.post_id))
    for post_id, number in replies.all():
        counts[post_id]["replies"] = number
    return counts
