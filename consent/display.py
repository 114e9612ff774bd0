"""The replies a post's public page may show, and nothing else: approved by a moderator, a given consent
receipt for the display purpose, the author not erased, and no opt-out signal (`moderation.
display_blockers`). Asked on every page view, so a withdrawal or an opt-out takes effect at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.consents import consented_reply_ids
from consent.models import RemoteActor, Reply, Subject
from consent.moderation import ModerationState, display_blockers
from consent.replies import open_reply
from consent.subjects import open_actor
from consent.vault import Vault

MAX_SHOWN = 200  # a page shows at most this many replies; more would not be read anyway


@dataclass(frozen=True)
class ShownReply:
    reply_id: int
    author_name: str
    handle: str | None
    author_uri: str
    url: str | None
    content_html: str  # sanitised on arrival
    received_at: datetime
    domain: str  # the bridge drops replies from blocked servers


async def shown_replies(session: AsyncSession, vault: Vault, post_id: int, purpose: str) -> list[ShownReply]:
    rows = (await session.execute(
        select(Reply, Subject, RemoteActor).join(Subject, Subject.id == Reply.subject_id)
        .join(RemoteActor, RemoteActor.subject_id == Reply.subject_id)
        .where(Reply.post_id == post_id, Reply.state == str(ModerationState.APPROVED),
               Subject.wrapped_key.is_not(None), Subject.objected_at.is_(None))
        .order_by(Reply.received_at, Reply.id).limit(MAX_SHOWN))).all()
    consented = await consented_reply_ids(session, [reply.id for reply, _, _ in rows], purpose)
    shown = []
    for reply, subject, actor_row in rows:
        if reply.id not in consented or display_blockers(reply.signals, actor_row.signals):
            continue
        opened, actor = open_reply(vault, subject, reply), open_actor(vault, subject, actor_row)
        if opened is None or actor is None:
            continue
        shown.append(ShownReply(reply.id, actor.name or actor.handle or actor.uri, actor.handle, actor.uri,
                                opened.url, opened.content_html, reply.received_at, actor_row.domain))
    return shown
