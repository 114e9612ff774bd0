"""Tables of the outbound bridge: the send state of each (post, platform) and each platform account.

Tokens and sessions are secrets of the authority, not personal data: they live here, sealed with a key
derived from the instance secret (`bridge.platform_accounts`), and never appear in logs or audit entries.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.db import Base, UTCDateTime, utcnow
from bridge.store.models import BigId


class SendState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # the request may be on its way: a crash here means UNKNOWN, never "not sent"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the request left without a clear answer; reconciled or decided by an editor
    CANCELLED = "cancelled"  # the post was deleted before it went out
    DELETED = "deleted"
    MANUAL = "manual"  # must be removed on the platform by hand (e.g. Telegram after 48 h)
    BY_HAND = "by_hand"  # no API (XING): waits for an editor to post it there and mark it done


class AccountStatus(enum.StrEnum):
    OK = "ok"
    RECONNECT_NEEDED = "reconnect_needed"


class PlatformSend(Base):
    __tablename__ = "platform_send"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("post.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=SendState.QUEUED)
    handle: Mapped[str] = mapped_column(String(100))  # idempotency key / record key seed, stable per row
    remote_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    remote_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    remote_extra: Mapped[dict] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)  # reason code of the last outcome
    detail: Mapped[str | None] = mapped_column(String(300), nullable=True)  # the platform's short error text
    last_action: Mapped[str] = mapped_column(String(16), default="publish")  # publish, edit, delete
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # first request left
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    backfeed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The platform's own public counts of the post (bridge.platforms.connectors.base.METRIC_NAMES, and "poll":
    # votes per option of its native poll) as last fetched, and when: a failed fetch leaves both, so the
    # figure shown always carries its date.
    metrics: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    metrics_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("post_id", "platform_id"),)


class PlatformAccount(Base):
    __tablename__ = "platform_account"
    platform_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(24), default=AccountStatus.OK)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(300), nullable=True)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # rate limit
    sealed_session: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # AES-GCM, never logged
    limits: Mapped[dict] = mapped_column(JSON, default=dict)
    cursor: Mapped[str | None] = mapped_column(String(100), nullable=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnswerState(enum.StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # the account has four-eyes approval: a second editor approves
    DRAFT = "draft"  # kept until the platform account is reconnected, then sent
    QUEUED = "queued"
    SENDING = "sending"  # the request may be on its way: a crash here means UNKNOWN, never "not sent"
    SENT = "sent"
    UNKNOWN = "unknown"  # may be there: reconciled where the platform can tell, else an editor decides
    FAILED = "failed"


class PlatformAnswer(Base):
    """An editor's answer to a citizen's reply collected from a platform, sent there as the account. The
    reply itself stays in the consent store (`reply_id`); only the authority's own text is kept here."""

    __tablename__ = "platform_answer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reply_id: Mapped[int] = mapped_column(Integer, index=True)  # consent store reply (no FK across stores)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("post.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    actor_name: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(String(5000))
    language: Mapped[str] = mapped_column(String(16), default="de")
    state: Mapped[str] = mapped_column(String(24), default=AnswerState.QUEUED)
    handle: Mapped[str] = mapped_column(String(100))
    remote_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    remote_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))  # user reference, as in the audit log
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PlatformConnection(Base):
    """A platform account connected in the browser (issue 19). The credentials are one Fernet token whose key
    is a file in the data dir (`bridge.runtime.credentials`), so a database dump alone opens none of them;
    they are never shown again once entered. `version` rises with every change: processes reload on it."""

    __tablename__ = "platform_connection"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    api_base: Mapped[str] = mapped_column(String(500))
    recipient: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(8))
    transfer_mechanism: Mapped[str] = mapped_column(String(200))
    sealed_credentials: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlatformOAuthState(Base):
    """An OAuth sign-in under way: the hash of its `state`, and what the callback needs (sealed)."""

    __tablename__ = "platform_oauth_state"
    state_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
