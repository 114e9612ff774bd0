"""Followers of the authority's accounts. Listing them is for delivery only; nobody browses them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import Follower, RemoteActor, Subject
from consent.subjects import open_actor
from consent.vault import Vault


@dataclass(frozen=True)
class Inbox:
    url: str
    shared: bool


async def add_follower(session: AsyncSession, vault: Vault, subject: Subject, actor_name: str,
                       follow_id: str) -> bool:
    """Returns True when this is a new follower (a repeated Follow just refreshes the activity id)."""
    row = await session.scalar(select(Follower).where(Follower.subject_id == subject.id,
                                                      Follower.actor_name == actor_name))
    sealed = vault.seal(subject, "follower.follow_id", follow_id)
    if row is not None:
        row.enc_follow_id = sealed
        return False
    session.add(Follower(subject_id=subject.id, actor_name=actor_name, enc_follow_id=sealed,
                         created_at=datetime.now(timezone.utc)))
    await session.flush()
    return True


async def remove_follower(session: AsyncSession, subject: Subject, actor_name: str | None = None) -> int:
    query = delete(Follower).where(Follower.subject_id == subject.id)
    if actor_name is not None:
        query = query.where(Follower.actor_name == actor_name)
    return (await session.execute(query)).rowcount


async def count_followers(session: AsyncSession, actor_name: str) -> int:
    return await session.scalar(select(func.count()).select_from(Follower).where(Follower.actor_name == actor_name))


async def follower_inboxes(session: AsyncSession, vault: Vault, actor_name: str) -> list[Inbox]:
    """One inbox per receiving server where it offers a shared inbox, else the follower's own inbox."""
    rows = (await session.execute(
        select(Subject, RemoteActor).join(Follower, Follower.subject_id == Subject.id)
        .join(RemoteActor, RemoteActor.subject_id == Subject.id).where(Follower.actor_name == actor_name)
    )).all()
    return preferred_inboxes(vault, rows)


def preferred_inboxes(vault: Vault, rows) -> list[Inbox]:
    """Distinct inboxes of (Subject, RemoteActor) rows: the server's shared inbox where it has one,
    so cost grows with the number of servers, not of people."""
    seen: dict[str, Inbox] = {}
    for subject, remote in rows:
        if remote.shared_inbox:
            seen.setdefault(remote.shared_inbox, Inbox(remote.shared_inbox, True))
            continue
        actor = open_actor(vault, subject, remote)
        if actor is not None:
            seen.setdefault(actor.inbox, Inbox(actor.inbox, False))
    return list(seen.values())


async def is_follower(session: AsyncSession, subject: Subject, actor_name: str) -> bool:
    return await session.scalar(select(func.count()).select_from(Follower).where(
        Follower.subject_id == subject.id, Follower.actor_name == actor_name)) > 0
