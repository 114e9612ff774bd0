"""Tables of the dialogue desk: how each citizen's reply is being handled (who, whether it needs an answer,
when it was first answered) and the answer templates (Textbausteine) per account. The reply itself stays
in the consent store; `reply_id` points there without a foreign key (the stores are kept apart)."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.db import Base, UTCDateTime, utcnow
from consent.models import Reply

WAITING_STATES = ("pending", "approved")  # moderation states of a reply that may still need an answer


class Handling(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    NO_ANSWER_NEEDED = "no_answer_needed"


class ReplyHandling(Base):
    __tablename__ = "reply_handling"
    reply_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    actor_name: Mapped[str] = mapped_column(String(30), index=True)
    state: Mapped[str] = mapped_column(String(24), default=Handling.OPEN)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)  # copied from the reply: waiting time survives erasure
    first_answer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnswerTemplate(Base):
    __tablename__ = "answer_template"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_name: Mapped[str] = mapped_column(String(30), index=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(String(5000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def handling_of(session, reply_id: int, actor_name: str, received_at: datetime) -> ReplyHandling:
    row = await session.get(ReplyHandling, reply_id)
    if row is None:
        row = ReplyHandling(reply_id=reply_id, actor_name=actor_name, state=Handling.OPEN, received_at=received_at,
                            updated_at=utcnow())
        session.add(row)
        await session.flush()
    return row


async def mark_answered(session, reply_id: int, actor_name: str, received_at: datetime, now: datetime) -> None:
    """The reply got an answer (a fediverse post, or a platform answer that arrived): the first one counts
    for the time to a first answer."""
    row = await handling_of(session, reply_id, actor_name, received_at)
    row.state = Handling.ANSWERED
    row.first_answer_at = row.first_answer_at or now
    row.updated_at = now


@dataclass(frozen=True)
class AnswerTimes:
    """Time to a first answer over a period, for one account: how many were answered, median and 90th
    percentile in seconds (None when none was answered), and how many still wait."""

    answered: int
    median: float | None
    p90: float | None
    waiting: int


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value at or above `share` of the values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def answer_times(session, since: datetime) -> dict[str, AnswerTimes]:
    """Per account, over replies received since `since`: figures only, no person's data. A reply erased
    after its answer still counts (its handling row keeps both times); one that waits is a stored reply
    awaiting or past moderation, neither hidden nor marked as needing no answer."""
    present = (await session.execute(
        select(Reply.id, Reply.actor_name, Reply.state, Reply.received_at, ReplyHandling.state,
               ReplyHandling.first_answer_at)
        .outerjoin(ReplyHandling, ReplyHandling.reply_id == Reply.id).where(Reply.received_at >= since))).all()
    seen = {row[0] for row in present}
    gone = (await session.execute(
        select(ReplyHandling.reply_id, ReplyHandling.actor_name, ReplyHandling.received_at,
               ReplyHandling.first_answer_at)
        .where(ReplyHandling.received_at >= since, ReplyHandling.first_answer_at.is_not(None)))).all()
    spans: dict[str, list[float]] = {}
    waiting: dict[str, int] = {}
    for _, actor_name, reply_state, received_at, handling, first_answer_at in present:
        spans.setdefault(actor_name, [])
        if first_answer_at is not None:
            spans[actor_name].append(max(0.0, (first_answer_at - received_at).total_seconds()))
        elif reply_state in WAITING_STATES and handling in (None, Handling.OPEN):
            waiting[actor_name] = waiting.get(actor_name, 0) + 1
    for reply_id, actor_name, received_at, first_answer_at in gone:
        if reply_id not in seen:
            spans.setdefault(actor_name, []).append(max(0.0, (first_answer_at - received_at).total_seconds()))
    return {name: AnswerTimes(len(values), percentile(values, 0.5), percentile(values, 0.9), waiting.get(name, 0))
            for name, values in spans.items()}


KEEP_HANDLING = timedelta(days=30)  # the period of the answer-time figures


async def purge_handling(session, now: datetime) -> int:
    """Handling rows outlive their reply only for the answer-time figures: gone after 30 days."""
    stale = (delete(ReplyHandling).where(ReplyHandling.received_at < now - KEEP_HANDLING,
                                         ReplyHandling.reply_id.not_in(select(Reply.id)))
             .execution_options(synchronize_session=False))
    return (await session.execute(stale)).rowcount
