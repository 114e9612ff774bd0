"""Tables of the official warnings lane (`bridge.warnings`): each source's poll state, each warning (one thread
of CAP messages: Alert, its Updates, its Cancel) with the posts it became, and every message seen.

A message is known by the digest of sender + identifier (CAP's own key); the unique index on it is what keeps
repeated polls, restarts and two workers from ever importing one message twice. No personal data: senders are
authorities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.db import Base, UTCDateTime, utcnow
from bridge.store.models import BigId


class WarningSourceState(Base):
    """The last poll of one `[[warnings]]` source: its result for the admin page, when the next one is due,
    and the validators of a conditional GET."""

    __tablename__ = "warning_source_state"
    source_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_description: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OfficialWarning(Base):
    """One warning as it stands now: the newest message of its thread, the posts it became, its state."""

    __tablename__ = "official_warning"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(40), index=True)
    sender: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(300))  # of the newest message
    state: Mapped[str] = mapped_column(String(16), index=True)  # active | lifted | expired | held
    msg_type: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(200))
    headline: Mapped[str] = mapped_column(String(500))
    sent: Mapped[datetime] = mapped_column(UTCDateTime)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fields: Mapped[dict] = mapped_column(JSON, default=dict)  # the CAP fields shown on the page and served as CAP
    post_ids: Mapped[list] = mapped_column(JSON, default=list)  # one post per configured account
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WarningMessage(Base):
    """One CAP message seen (by digest of sender + identifier), and the warning it belongs to."""

    __tablename__ = "warning_message"
    key_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("official_warning.id", ondelete="CASCADE"),
                                                   nullable=True, index=True)
    source_id: Mapped[str] = mapped_column(String(40))
    msg_type: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WarningPost(Base):
    """The warning a post was made for, found by the post's id (the key) when its permalink is drawn, rather
    than by searching the warnings' `post_ids` lists, whose text grows with every warning ever posted."""

    __tablename__ = "warning_post"
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("post.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    warning_id: Mapped[int] = mapped_column(ForeignKey("official_warning.id", ondelete="CASCADE"), index=True)
