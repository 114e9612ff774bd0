"""Tables of the consent package, on their own declarative base (the bridge never maps them)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, LargeBinary, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTC(TypeDecorator):
    """Timezone-aware UTC datetimes on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class ConsentBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AuditEntry(ConsentBase):
    """One audit event: ids, roles, reason codes; never content, payloads or IP addresses."""

    __tablename__ = "audit_entry"
    # Assigned from `audit_head`, never by the database: gap-free, starting at 0 = the Merkle leaf index.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTC)
    action: Mapped[str] = mapped_column(String(48), index=True)
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_ref: Mapped[str] = mapped_column(String(80))
    subject_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    purpose: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    legal_basis: Mapped[str | None] = mapped_column(String(32), nullable=True)
    retention_class: Mapped[str | None] = mapped_column(String(32), nullable=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))  # RFC 9162 leaf hash of the canonical entry


class Subject(ConsentBase):
    """A person outside the authority. `wrapped_key` encrypts all their personal fields; erasure deletes
    it (crypto-shredding), after which no copy of those fields — backups included — can be read."""

    __tablename__ = "subject"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "fediverse" or a platform kind
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTC)
    erased_at: Mapped[datetime | None] = mapped_column(UTC, nullable=True)
    objected_at: Mapped[datetime | None] = mapped_column(UTC, nullable=True)


class RemoteActor(ConsentBase):
    """What we must know to talk to a fediverse account; personal fields encrypted with the subject key.

    The domain stays readable: domain blocks and delivery health are about servers, not people."""

    __tablename__ = "remote_actor"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    enc_uri: Mapped[bytes] = mapped_column(LargeBinary)
    enc_inbox: Mapped[bytes] = mapped_column(LargeBinary)
    shared_inbox: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    enc_handle: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    enc_name: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    signals: Mapped[dict] = mapped_column(JSON, default=dict)  # opt-out flags only, never free text
    fetched_at: Mapped[datetime] = mapped_column(UTC)


class Follower(ConsentBase):
    __tablename__ = "follower"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), index=True)
    actor_name: Mapped[str] = mapped_column(String(30), index=True)  # our account being followed
    enc_follow_id: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTC)

    __table_args__ = (UniqueConstraint("subject_id", "actor_name"),)


class Reply(ConsentBase):
    """A reply to one of our posts: kept for moderation and answering under the public task
    (GDPR Art. 6(1)(e)) until `retain_until`; shown publicly only with a consent receipt."""

    __tablename__ = "reply"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), index=True)
    object_hash: Mapped[str] = mapped_column(String(40), unique=True)  # keyed hash of the Note id
    post_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)  # no FK into bridge
    actor_name: Mapped[str] = mapped_column(String(30))  # our account it concerns
    enc_object_id: Mapped[bytes] = mapped_column(LargeBinary)
    enc_url: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    enc_content: Mapped[bytes] = mapped_column(LargeBinary)  # sanitised HTML
    enc_summary: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    legal_basis: Mapped[str] = mapped_column(String(32), default="gdpr_6_1_e")
    signals: Mapped[dict] = mapped_column(JSON, default=dict)  # opt-out signals evaluated on arrival
    received_at: Mapped[datetime] = mapped_column(UTC)
    updated_at: Mapped[datetime | None] = mapped_column(UTC, nullable=True)
    retain_until: Mapped[datetime] = mapped_column(UTC, index=True)


class Interaction(ConsentBase):
    """A like or boost of our post: only what is needed to count it and to undo it."""

    __tablename__ = "interaction"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), index=True)
    activity_hash: Mapped[str] = mapped_column(String(40), unique=True)
    post_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "like" or "announce"
    created_at: Mapped[datetime] = mapped_column(UTC)


class Report(ConsentBase):
    """A Flag from another server, for the moderators."""

    __tablename__ = "report"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id", ondelete="SET NULL"), nullable=True)
    domain: Mapped[str] = mapped_column(String(255))
    enc_comment: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    post_ids: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default="open")
    received_at: Mapped[datetime] = mapped_column(UTC)


class InboundSeen(ConsentBase):
    """Activity ids already processed (as keyed hashes), so a redelivered activity is applied once."""

    __tablename__ = "inbound_seen"
    id_hash: Mapped[str] = mapped_column(String(40), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTC, index=True)


class QuoteGrant(ConsentBase):
    """An FEP-044f QuoteAuthorization we gave: served at its id until withdrawn or the subject is erased.

    The quoting post's URI is the person's data, so it is sealed with their key like every other field."""

    __tablename__ = "quote_grant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)  # keyed hash of the QuoteRequest id
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), index=True)
    actor_name: Mapped[str] = mapped_column(String(30))  # our account whose post is quoted
    post_id: Mapped[int] = mapped_column(BigInteger, index=True)
    enc_instrument: Mapped[bytes] = mapped_column(LargeBinary)  # the quoting post's id
    created_at: Mapped[datetime] = mapped_column(UTC)
