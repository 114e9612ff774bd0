"""The tables of polls: a poll attached to a post, its running tally, and the votes while it is open.

A vote names its voter only by a keyed pseudonym (HMAC with the instance secret, one purpose per poll, so
votes in two polls cannot be linked); the rows are deleted when the poll closes and only the tally stays.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from bridge.store.attached import load, loaded
from bridge.store.db import Base, UTCDateTime, utcnow
from bridge.store.models import BigId, Post


class Poll(Base):
    """Mastodon's poll: options, single or multiple choice, hidden totals, an end; `counts` per option."""

    __tablename__ = "poll"
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("post.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    options: Mapped[list] = mapped_column(JSON, default=list)
    counts: Mapped[list] = mapped_column(JSON, default=list)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_totals: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_in: Mapped[int] = mapped_column(Integer)  # seconds from publication
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # set on publication
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voters_count: Mapped[int] = mapped_column(Integer, default=0)
    # Servers (shared inboxes only: a server's address, not a person's) whose users voted: the tally's
    # Update(Question) reaches them even when nobody there follows the account.
    voter_inboxes: Mapped[list] = mapped_column(JSON, default=list)
    # Declared here rather than in models.py: the poll belongs to its capability. Loaded with the post.
    post: Mapped[Post] = relationship(backref=backref("poll", uselist=False, lazy="selectin",
                                                      passive_deletes=True))

    def closed(self, now: datetime) -> bool:
        return self.closed_at is not None or (self.expires_at is not None and self.expires_at <= now)

    @property
    def votes_count(self) -> int:
        return sum(self.counts)


class PollVote(Base):
    """One counted choice of one voter while the poll is open; deleted at closing."""

    __tablename__ = "poll_vote"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("poll.post_id", ondelete="CASCADE"), index=True)
    voter: Mapped[str] = mapped_column(String(40))  # keyed pseudonym within this poll, never the actor id
    choice: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("post_id", "voter", "choice", name="uq_poll_vote_post_id"),)


def loaded_poll(post: Post) -> Poll | None:
    return loaded(post, "poll")


async def poll_of(session: AsyncSession, post: Post) -> Poll | None:
    return await load(session, post, "poll", Poll)
