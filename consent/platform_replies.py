"""Replies collected from commercial platforms (backfeed): stored like fediverse replies — pending
moderation under the public task, sealed with the author's own key, with a retention deadline — and
labelled with their source platform. Only the minimal fields arrive here: a platform author id, the
text, the time and the permalink."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import Reply, Subject
from consent.replies import ReplyFacts, ReplyReason, ReplyResult, erase_reply, find_reply, open_reply, store_reply
from consent.subjects import ensure_subject
from consent.vault import Vault


def as_html(text: str) -> str:
    """Plain platform text as the sanitised HTML the reply store keeps (escaped, paragraphs kept)."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


async def store_platform_reply(session: AsyncSession, vault: Vault, *, platform_kind: str, platform_id: str,
                               author_id: str, reply_id: str, text: str, url: str | None, post_id: int,
                               actor_name: str, retention: timedelta, now: datetime) -> ReplyResult:
    subject = await ensure_subject(session, vault, author_id, kind=platform_kind)
    facts = ReplyFacts(object_id=reply_id, actor_name=actor_name, post_id=post_id, content_html=as_html(text),
                       url=url, signals={"source": platform_kind, "platform": platform_id, "visibility": "public"})
    return await store_reply(session, vault, subject, facts, retention, now)


async def erase_platform_reply(session: AsyncSession, vault: Vault, reply_id: str) -> ReplyResult:
    """The reply was deleted on the platform: it goes here too."""
    reply = await find_reply(session, vault, reply_id)
    if reply is None:
        return ReplyResult(ReplyReason.NOT_FOUND)
    subject = await session.get(Subject, reply.subject_id)
    return await erase_reply(session, vault, subject, reply_id)


async def platform_reply_ids(session: AsyncSession, vault: Vault, post_id: int, platform_id: str) -> list[str]:
    """The platform ids of the replies stored for one post from one platform account."""
    rows = (await session.execute(select(Reply, Subject).join(Subject, Subject.id == Reply.subject_id)
                                  .where(Reply.post_id == post_id))).all()
    found = []
    for reply, subject in rows:
        if (reply.signals or {}).get("platform") != platform_id:
            continue
        opened = open_reply(vault, subject, reply)
        if opened is not None:
            found.append(opened.object_id)
    return found
