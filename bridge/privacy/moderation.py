"""What moderators do with a reply, each step audited: change its state along the declared graph
(`consent.moderation`), block its server, or find what is needed to answer it as the account."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.db import utcnow
from bridge.delivery.domain_blocks import BlockReason, BlockResult, block, unblock
from bridge.runtime.federation import Federation
from bridge.store.models import User
from bridge.publishing.posts import ReplyTarget
from bridge.auth.users import user_ref
from consent.audit import Action, Event, Outcome, record
from consent.models import RemoteActor, Reply, Subject
from consent.moderation import ModerationState, Move, move
from consent.subjects import open_actor

_ACTIONS = {ModerationState.APPROVED: Action.REPLY_APPROVED, ModerationState.HIDDEN: Action.REPLY_HIDDEN,
            ModerationState.SPAM: Action.REPLY_MARKED_SPAM}
TARGETS = {"approve": ModerationState.APPROVED, "hide": ModerationState.HIDDEN, "spam": ModerationState.SPAM}


async def moderate(session: AsyncSession, user: User, reply: Reply, target: ModerationState) -> Move:
    """One state change, or a refusal when the graph does not allow it; both are audited."""
    moved = await move(session, reply, target, utcnow())
    subject = await session.get(Subject, reply.subject_id)
    action = _ACTIONS.get(target, Action.REPLY_MODERATION_REFUSED) if moved.ok else Action.REPLY_MODERATION_REFUSED
    await record(session, Event(action, user.role, user_ref(user), Outcome.OK if moved.ok else Outcome.DENIED,
                                subject_ref=subject.pseudonym if subject is not None else None,
                                reason=str(moved.reason), purpose="moderation",
                                details={"reply": reply.id, "actor": reply.actor_name, "from": moved.before,
                                         "to": str(target)}))
    return moved


async def author_domain(session: AsyncSession, reply: Reply) -> str | None:
    row = await session.get(RemoteActor, reply.subject_id)
    return row.domain if row is not None else None


async def block_domain(session: AsyncSession, user: User, domain: str, reason: BlockReason,
                       own_host: str) -> tuple[BlockResult, str | None]:
    result, name = await block(session, domain, reason, user_ref(user), own_host, utcnow())
    await record(session, Event(Action.DOMAIN_BLOCKED, user.role, user_ref(user),
                                Outcome.OK if result.ok else Outcome.DENIED, reason=str(result),
                                purpose="moderation", details={"domain": name, "why": str(reason)}))
    return result, name


async def unblock_domain(session: AsyncSession, user: User, domain: str) -> tuple[BlockResult, str | None]:
    result, name = await unblock(session, domain)
    await record(session, Event(Action.DOMAIN_UNBLOCKED, user.role, user_ref(user),
                                Outcome.OK if result.ok else Outcome.DENIED, reason=str(result),
                                purpose="moderation", details={"domain": name}))
    return result, name


@dataclass(frozen=True)
class Answerable:
    target: ReplyTarget
    reply_id: int


async def answer_target(session: AsyncSession, federation: Federation, reply: Reply) -> Answerable | None:
    """The fediverse note and author an answer goes to; None for platform replies and erased authors."""
    subject = await session.get(Subject, reply.subject_id)
    row = await session.get(RemoteActor, reply.subject_id)
    if subject is None or row is None:
        return None
    actor = open_actor(federation.vault, subject, row)
    note_id = federation.vault.open(subject, "reply.object_id", reply.enc_object_id)
    if actor is None or note_id is None:
        return None
    return Answerable(ReplyTarget(note_id, actor.uri, actor.handle or actor.uri), reply.id)


async def record_answer(session: AsyncSession, user: User, reply: Reply, post_id: int) -> None:
    subject = await session.get(Subject, reply.subject_id)
    await record(session, Event(Action.REPLY_ANSWERED, user.role, user_ref(user),
                                subject_ref=subject.pseudonym if subject is not None else None,
                                purpose="moderation", details={"reply": reply.id, "post": post_id,
                                                               "actor": reply.actor_name}))
