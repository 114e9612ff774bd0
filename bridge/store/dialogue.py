"""Tables of the dialogue desk: how each citizen's reply is being handled (who, whether it needs an answer,
when it was first answered) and the answer templates (Textbausteine) per account. The reply itself stays
in the consent store; `reply_id` points there without a foreign key (the stores are kept apart)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.db import Base, UTCDateTime, utcnow


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
