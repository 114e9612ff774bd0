"""Tables of the audit log's tree state and signed checkpoints, of data-subject requests, and of the
sign-in security log. On the consent package's own declarative base, like every table about people."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consent.models import UTC, ConsentBase

HEAD_ID = 1


class AuditHead(ConsentBase):
    """The one row that serialises appends: the tree size (= next seq) and the compact-tree frontier.

    Every append locks it first, so sequence numbers are gap-free and the frontier always matches the
    entries committed before it; a rolled-back append rolls back its head change too."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(Integer, default=0)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # 32 bytes per set bit of `size`


class AuditCheckpoint(ConsentBase):
    """A signed C2SP checkpoint note over the first `size` entries (append-only, like the entries)."""

    __tablename__ = "audit_checkpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTC)


class RightsRequest(ConsentBase):
    """An access, erasure or objection request (Art. 15, 17, 21), due one month after receipt (Art. 12(3)).

    Names the person by pseudonym only; the identifier they gave is not kept."""

    __tablename__ = "rights_request"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject_ref: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    received_at: Mapped[datetime] = mapped_column(UTC)
    due_at: Mapped[datetime] = mapped_column(UTC)
    closed_at: Mapped[datetime | None] = mapped_column(UTC, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)


class SecurityEvent(ConsentBase):
    """A sign-in attempt with the client address: full for at most a week, then truncated (/20, /44)."""

    __tablename__ = "security_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTC, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_ref: Mapped[str | None] = mapped_column(String(40), nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
