"""What the moderation view shows of each reply: sanitised content, author, source, state, times, the
opt-out signals taken on arrival, the consent state and whether the public page shows it now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.normalize import web_url
from bridge.delivery.domain_blocks import blocked_hosts
from bridge.store.models import Post
from consent.consents import consent_states
from consent.models import RemoteActor, Reply, Subject
from consent.moderation import TRANSITIONS, ModerationState, display_blockers
from consent.replies import open_reply
from consent.subjects import FEDIVERSE, open_actor
from consent.vault import Vault

PAGE_SIZE = 20


@dataclass(frozen=True)
class ReplyRow:
    id: int
    post_id: int | None
    post_text: str
    source: str  # "fediverse" or the platform account id
    author: str
    handle: str | None
    url: str | None
    content: Markup  # sanitised when it arrived (fediverse) or escaped (platforms)
    state: str
    received_at: datetime
    retain_until: datetime
    signals: dict
    blockers: tuple[str, ...]
    consent: str | None  # None: never asked
    shown: bool  # on the public page right now
    domain: str | None
    domain_blocked: bool
    moves: tuple[str, ...]  # target states the graph allows from here

    @property
    def fediverse(self) -> bool:
        return self.source == FEDIVERSE


@dataclass(frozen=True)
class Filters:
    actor_name: str
    post_id: int | None = None
    state: str | None = None
    before: int | None = None


async def reply_page(session: AsyncSession, vault: Vault, filters: Filters) -> tuple[list[ReplyRow], int | None]:
    """Newest first; the second value is the cursor of the next (older) page, if any."""
    query = reply_query().where(Reply.actor_name == filters.actor_name)
    if filters.post_id is not None:
        query = query.where(Reply.post_id == filters.post_id)
    if filters.state:
        query = query.where(Reply.state == filters.state)
    if filters.before:
        query = query.where(Reply.id < filters.before)
    rows = (await session.execute(query.order_by(Reply.id.desc()).limit(PAGE_SIZE + 1))).all()
    page, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    return await build_rows(session, vault, page), (page[-1][0].id if more else None)


def reply_query():
    """Replies with their subject and, for fediverse authors, the actor row: what `build_rows` takes."""
    return (select(Reply, Subject, RemoteActor).join(Subject, Subject.id == Reply.subject_id)
            .outerjoin(RemoteActor, RemoteActor.subject_id == Reply.subject_id))


async def build_rows(session: AsyncSession, vault: Vault, page) -> list[ReplyRow]:
    """What moderation may show of each (reply, subject, actor): the one place that opens replies for a view
    (the moderation view and the dialogue desk)."""
    ids = [reply.id for reply, _, _ in page]
    consents = await consent_states(session, ids)
    blocked = await blocked_hosts(session, {a.domain for _, _, a in page if a is not None})
    texts = await _post_texts(session, {reply.post_id for reply, _, _ in page if reply.post_id})
    built = [_row(vault, reply, subject, actor, consents.get(reply.id), blocked, texts) for reply, subject, actor in page]
    return [r for r in built if r is not None]


def _row(vault: Vault, reply: Reply, subject: Subject, actor_row: RemoteActor | None, consent: str | None,
         blocked: set[str], texts: dict[int, str]) -> ReplyRow | None:
    opened = open_reply(vault, subject, reply)
    if opened is None:
        return None  # the author was erased a moment ago
    actor = open_actor(vault, subject, actor_row) if actor_row is not None else None
    signals = dict(reply.signals or {})
    source = FEDIVERSE if actor is not None else str(signals.get("platform") or signals.get("source") or subject.kind)
    blockers = tuple(display_blockers(signals, actor_row.signals if actor_row is not None else {}))
    domain = actor_row.domain if actor_row is not None else None
    try:
        moves = tuple(sorted(str(s) for s in TRANSITIONS[ModerationState(reply.state)] if s is not ModerationState.DELETED))
    except ValueError:
        moves = ()
    return ReplyRow(
        id=reply.id, post_id=reply.post_id, post_text=texts.get(reply.post_id or 0, ""), source=source,
        author=(actor.name or actor.handle or actor.uri) if actor else source, handle=actor.handle if actor else None,
        url=web_url(opened.url), content=Markup(opened.content_html), state=reply.state, received_at=reply.received_at,
        retain_until=reply.retain_until, signals=signals, blockers=blockers, consent=consent,
        shown=(reply.state == ModerationState.APPROVED and consent == "given" and not blockers
               and domain not in blocked and actor is not None),
        domain=domain, domain_blocked=domain in blocked, moves=moves)


async def _post_texts(session: AsyncSession, post_ids: set[int]) -> dict[int, str]:
    if not post_ids:
        return {}
    rows = await session.execute(select(Post.id, Post.text).where(Post.id.in_(post_ids)))
    return {post_id: text for post_id, text in rows.all()}
