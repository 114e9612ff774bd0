"""The bridge's domain tables: actors, users, sessions, posts, media, jobs, API tokens and OAuth apps.

Tables about people outside the authority live in `consent`, never here.
"""

from __future__ import annotations

import enum
import os
import time
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bridge.store.db import Base, UTCDateTime, utcnow

# SQLite only auto-increments "INTEGER PRIMARY KEY"; ids we mint ourselves are BIGINT on PostgreSQL.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def new_id() -> int:
    """Time-sortable 63-bit id like Mastodon's snowflakes: milliseconds << 16 | random bits."""
    return (int(time.time() * 1000) << 16) | int.from_bytes(os.urandom(2), "big")


class Role(enum.StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    DPO = "dpo"


class PostState(enum.StrEnum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    FAILED = "failed"
    DELETED = "deleted"


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class MediaState(enum.StrEnum):
    """A video is stored raw at upload and converted by the `video.process` job; images are ready at once."""

    READY = "ready"
    PROCESSING = "processing"
    FAILED = "failed"


class Actor(Base):
    __tablename__ = "actor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(30), unique=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The profile (issue 19): the database is where accounts are changed; null until the first start has
    # copied the file's [[actors]] entry (`profile_version` 0), and for the instance actor.
    profile: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # Raised with every change of the profile: each process reloads its accounts when the sum moves.
    profile_version: Mapped[int] = mapped_column(Integer, default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actors: Mapped[list[Actor]] = relationship(secondary="user_actor", lazy="selectin")
    # Staff e-mail (Art. 30 register: "Staff e-mail"): approvals, returned posts, reply digests, password links.
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    reply_digest: Mapped[bool] = mapped_column(Boolean, default=False)  # opt-in: a daily mail of new replies
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The TOTP secret, AES-GCM under a key derived from the instance secret file (`bridge.auth.totp`).
    totp_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a code counts once


class RecoveryCode(Base):
    """One of a user's ten single-use recovery codes for the second factor; only a keyed hash is kept."""

    __tablename__ = "recovery_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PasswordReset(Base):
    """A "forgot password" link: single use, valid for 30 minutes; only the SHA-256 of its token is kept."""

    __tablename__ = "password_reset"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))  # with the instance secret, gives the token for the mail
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UserActor(Base):
    __tablename__ = "user_actor"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True)


class WebSession(Base):
    """A signed-in browser session. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "web_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SigninThrottle(Base):
    """Failed sign-ins per account and per client (the client as a keyed hash, never an IP)."""

    __tablename__ = "signin_throttle"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Post(Base):
    __tablename__ = "post"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, default=new_id, autoincrement=False)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(24), index=True)
    text: Mapped[str] = mapped_column(Text)
    spoiler_text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    mirrors: Mapped[list] = mapped_column(JSON, default=list)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_text_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    review_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # An answer as the account to a citizen's reply: the remote Note answered and its author, who is
    # mentioned and addressed (cc) so that the answer reaches them.
    in_reply_to: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    in_reply_to_actor: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    in_reply_to_handle: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # Remote @user@host mentions in the text, resolved by WebFinger when the post went out: handle
    # (lower case) → actor id, so the Mention tag and `cc` carry the id and every later Update agrees.
    mention_actors: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # The text in other languages (language → plain text), for `contentMap`: an official warning's English.
    # Any edit of the text drops them (they would no longer match); the warnings lane writes them again.
    translations: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    actor: Mapped[Actor] = relationship(lazy="joined")
    author: Mapped["User | None"] = relationship(foreign_keys=[author_id], lazy="joined")
    approved_by: Mapped["User | None"] = relationship(foreign_keys=[approved_by_id], lazy="joined")
    media: Mapped[list["Media"]] = relationship(lazy="selectin", order_by="Media.position",
                                                back_populates="post")

    __table_args__ = (Index("ix_post_actor_published", "actor_id", "state", "published_at"),)


class PostRevision(Base):
    """The text before an edit, so the edit history can be shown and audited."""

    __tablename__ = "post_revision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    spoiler_text: Mapped[str] = mapped_column(Text, default="")
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EditState(enum.StrEnum):
    PENDING = "pending"  # waits for another editor; the published text stays as it is
    APPROVED = "approved"  # applied to the post and sent out as an Update
    RETURNED = "returned"  # sent back to its editor with a comment; the published text stays
    SUPERSEDED = "superseded"  # replaced by a newer edit before anyone decided
    WITHDRAWN = "withdrawn"  # the post was deleted, or edited at once, before anyone decided


class PostEdit(Base):
    """A proposed edit of a published post of a four-eyes account: the post itself (and so every public
    form of it) keeps the approved text until another editor approves this row."""

    __tablename__ = "post_edit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=EditState.PENDING)
    text: Mapped[str] = mapped_column(Text)
    spoiler_text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    # The images as proposed, in order: [{"id": media id, "alt": ..., "decorative": ...}]
    media: Mapped[list] = mapped_column(JSON, default=list)
    # A change of the post's event waiting with the edit (bridge.publishing.events.event_payload): the new
    # when and where, or {"cancel": true}; None for an edit of the text alone.
    event: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    editor: Mapped["User | None"] = relationship(foreign_keys=[editor_id], lazy="joined")


class Media(Base):
    __tablename__ = "media"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, default=new_id, autoincrement=False)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id"))
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(80), unique=True)
    mime_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    alt: Mapped[str] = mapped_column(Text, default="")
    decorative: Mapped[bool] = mapped_column(Boolean, default=False)
    # Video only: its length, a JPEG frame shown before it plays, and its WebVTT captions or the
    # editor's declaration that nothing is spoken (one of the two is needed to publish it).
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    poster_filename: Mapped[str | None] = mapped_column(String(80), nullable=True)
    captions_filename: Mapped[str | None] = mapped_column(String(80), nullable=True)
    no_speech: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A video waiting for its job: the uploaded file (deleted once converted or failed) and, when the job
    # failed, its reason code (a `VideoReason`).
    state: Mapped[str] = mapped_column(String(16), default=MediaState.READY, server_default=MediaState.READY.value)
    raw_filename: Mapped[str | None] = mapped_column(String(80), nullable=True)
    failure: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    post: Mapped[Post | None] = relationship(back_populates="media")

    @property
    def is_video(self) -> bool:
        return self.mime_type.startswith("video/")


class Job(Base):
    """A durable job. Payloads hold ids only; `last_error` holds a reason code, never a body."""

    __tablename__ = "job"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    # Jobs with the same key run in id order (an Update never overtakes the Create for one inbox).
    ordering_key: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    locked_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Lower runs first (like `nice`): a warning's fan-out and sends (0) overtake routine jobs (10) already queued.
    priority: Mapped[int] = mapped_column(Integer, default=10, server_default="10")

    __table_args__ = (Index("ix_job_due", "state", "priority", "run_at", "id"),)  # the claim's ORDER BY, whole


class WorkerHeartbeat(Base):
    """One row per running worker (`bridge.queue.heartbeats`): `/readyz` asks whether any beat recently.
    The owner id is host:pid:random, the worker's own name for its job claims; no person's data."""

    __tablename__ = "worker_heartbeat"
    owner: Mapped[str] = mapped_column(String(80), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OAuthApp(Base):
    """A client registered through `POST /api/v1/apps`. The client id is public; of the secret only its hash."""

    __tablename__ = "oauth_app"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    website: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    scopes: Mapped[str] = mapped_column(String(1000))  # space-separated, as registered
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token for one user and one account: made by an admin, or by an app through OAuth."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set for tokens an app obtained through OAuth; an admin's token has neither (all of an editor's rights).
    app_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_app.id", ondelete="CASCADE"), nullable=True,
                                               index=True)
    scopes: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    user: Mapped[User] = relationship(lazy="joined")
    actor: Mapped[Actor] = relationship(lazy="joined")
    app: Mapped[OAuthApp | None] = relationship(lazy="joined")


class OAuthCode(Base):
    """An authorization code: single-use, short-lived, stored as a hash; `token_id` is the token it bought,
    revoked if the code is ever presented again (RFC 6749 section 4.1.2)."""

    __tablename__ = "oauth_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_app.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scopes: Mapped[str] = mapped_column(String(1000))
    code_challenge: Mapped[str | None] = mapped_column(String(128), nullable=True)
    code_challenge_method: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id", ondelete="SET NULL"), nullable=True)


class OAuthAppToken(Base):
    """A client-credentials token: the app itself, no user and no account behind it."""

    __tablename__ = "oauth_app_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_app.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    app: Mapped[OAuthApp] = relationship(lazy="joined")


class IdempotencyKey(Base):
    """Mastodon's `Idempotency-Key`: the same key from the same token returns the first post."""

    __tablename__ = "idempotency_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("token_id", "key"),)


class DeliveryHost(Base):
    """Health of a receiving server: a circuit breaker per host and Mastodon's "unavailable after
    failures on 7 distinct days", cleared by any success or any valid inbound request."""

    __tablename__ = "delivery_host"
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failure_days: Mapped[list] = mapped_column(JSON, default=list)
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unavailable_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
