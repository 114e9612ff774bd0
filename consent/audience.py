"""Who must hear about an edit or deletion of a post besides followers: everyone who replied to it,
liked it or boosted it (their servers hold a copy)."""

from __future__ import annotations

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from consent.followers import Inbox, preferred_inboxes
from consent.models import Interaction, RemoteActor, Reply, Subject
from consent.subjects import open_actor
from consent.vault import Vault


async def interacted_inboxes(session: AsyncSession, vault: Vault, post_id: int) -> list[Inbox]:
    subject_ids = union(select(Reply.subject_id).where(Reply.post_id == post_id),
                        select(Interaction.subject_id).where(Interaction.post_id == post_id)).subquery()
    rows = (await session.execute(
        select(Subject, RemoteActor).join(RemoteActor, RemoteActor.subject_id == Subject.id)
        .where(Subject.id.in_(select(subject_ids.c[0])))
    )).all()
    return preferred_inboxes(vault, rows)


async def subjects_with_inbox(session: AsyncSession, vault: Vault, domain: str, inbox: str) -> list[Subject]:
    """The people whose personal inbox is `inbox` (to drop followers whose inbox answered 410 Gone)."""
    rows = (await session.execute(select(Subject, RemoteActor).join(RemoteActor, RemoteActor.subject_id == Subject.id)
                                  .where(RemoteActor.domain == domain))).all()
    return [subject for subject, remote in rows
            if (actor := open_actor(vault, subject, remote)) is not None and actor.inbox == inbox]
