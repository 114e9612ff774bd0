"""Tables for public reading and feed import: the hashtag index, imported-item GUIDs, import state.

The indexes on `post` below make every public page and feed one bounded index range scan
(`LIMIT 21` in id order), so the cost of a request does not grow with the number of posts stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.db import Base, UTCDateTime, utcnow
from bridge.store.models import BigId, Post

# Newest-first listings per account and for the whole instance, in cursor (id) order.
POST_ACTOR_STATE_ID = Index("ix_post_actor_state_id", Post.actor_id, Post.state, Post.id)
POST_STATE_ID = Index("ix_post_state_id", Post.state, Post.id)


class PostTag(Base):
    """One hashtag of a published post, lower-cased; rewritten on publication and on every edit."""

    __tablename__ = "post_tag"
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_post_tag_post_id", "post_id"),)


class ImportedItem(Base):
    """A feed item already seen for an account (posted or deliberately skipped), by GUID digest, so
    that no item is posted twice, across restarts and whatever the feed does with its order."""

    __tablename__ = "imported_item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_name: Mapped[str] = mapped_column(String(30))
    guid_sha256: Mapped[str] = mapped_column(String(64))
    post_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("post.id", ondelete="SET NULL"), nullable=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_imported_item_actor_guid", "actor_name", "guid_sha256", unique=True),)


class FeedImportState(Base):
    """Where the import of one account's feed stands: validators for conditional GET, the outcome of
    the last poll (a reason code and its description, shown to editors), and failures in a row."""

    __tablename__ = "feed_import_state"
    actor_name: Mapped[str] = mapped_column(String(30), primary_key=True)
    feed_url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(64), nullable=True)
    primed: Mapped[bool] = mapped_column(Boolean, default=False)  # the first poll has remembered existing items
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    posts_created: Mapped[int] = mapped_column(Integer, default=0)
