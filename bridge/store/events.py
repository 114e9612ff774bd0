"""The table of events: a post that announces an event carries its when and where here; the post's text
is the description and its image (with alt text) the event's picture."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from bridge.store.attached import load, loaded
from bridge.store.db import Base, UTCDateTime
from bridge.store.models import BigId, Post


class EventStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class PostEvent(Base):
    __tablename__ = "post_event"
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("post.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. Europe/Berlin
    place_name: Mapped[str] = mapped_column(String(200), default="")
    street_address: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    locality: Mapped[str] = mapped_column(String(100), default="")
    online_url: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.CONFIRMED)
    post: Mapped[Post] = relationship(backref=backref("event", uselist=False, lazy="selectin",
                                                      passive_deletes=True))

    @property
    def cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def has_place(self) -> bool:
        return bool(self.place_name or self.street_address or self.locality)


def loaded_event(post: Post) -> PostEvent | None:
    return loaded(post, "event")


async def event_of(session: AsyncSession, post: Post) -> PostEvent | None:
    return await load(session, post, "event", PostEvent)
