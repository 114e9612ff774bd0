"""Published posts as readers see them: per account, per hashtag, for the whole instance.

Every listing is one bounded index range scan in id order (`Post.id` is time-sortable and the stable
cursor), so pages and feeds cost the same with ten posts stored or a hundred thousand. Feeds first
read only the versions (ids and change times) to answer a conditional GET, then load the posts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from bridge.store.models import Actor, Post, PostState
from bridge.store.feeds import PostTag
from bridge.convert.text import parse_text

PAGE_SIZE = 20
MAX_TAG = 100


class ScopeKind(enum.StrEnum):
    ACCOUNT = "account"
    TAG = "tag"
    INSTANCE = "instance"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    actor_id: int | None = None
    tag: str | None = None

    @classmethod
    def account(cls, actor_id: int) -> "Scope":
        return cls(ScopeKind.ACCOUNT, actor_id=actor_id)

    @classmethod
    def hashtag(cls, tag: str) -> "Scope":
        return cls(ScopeKind.TAG, tag=normalize_tag(tag))

    @classmethod
    def instance(cls) -> "Scope":
        return cls(ScopeKind.INSTANCE)


@dataclass(frozen=True)
class Version:
    """What a feed's validators are computed from, before any post is loaded."""

    id: int
    actor_name: str
    published_at: datetime
    edited_at: datetime | None

    @property
    def changed(self) -> datetime:
        return max(self.published_at, self.edited_at) if self.edited_at else self.published_at


@dataclass(frozen=True)
class Page:
    posts: list[Post]
    older_max_id: int | None  # cursor of the next older page, None at the end
    newer_min_id: int | None  # cursor of the next newer page, None on the newest page


def normalize_tag(tag: str) -> str:
    return tag.strip().lstrip("#").lower()[:MAX_TAG]


def _ids(scope: Scope, state: str = PostState.PUBLISHED) -> Select:
    """`SELECT post.id …` for the scope; the id column is the one ordered and compared by cursors."""
    if scope.kind is ScopeKind.TAG:
        return (select(PostTag.post_id.label("id")).join(Post, Post.id == PostTag.post_id)
                .where(PostTag.tag == scope.tag, Post.state == state))
    query = select(Post.id.label("id")).where(Post.state == state)
    if scope.kind is ScopeKind.ACCOUNT:
        query = query.where(Post.actor_id == scope.actor_id)
    return query


def _id_column(scope: Scope):
    return PostTag.post_id if scope.kind is ScopeKind.TAG else Post.id


async def page(session: AsyncSession, scope: Scope, *, max_id: int | None = None, min_id: int | None = None,
               limit: int = PAGE_SIZE) -> Page:
    """Newest first. `max_id` pages towards older posts, `min_id` towards newer ones (Mastodon's cursors)."""
    column = _id_column(scope)
    query = _ids(scope)
    if min_id is not None and max_id is None:
        rows = (await session.scalars(query.where(column > min_id).order_by(column.asc()).limit(limit + 1))).all()
        ids = list(reversed(rows[:limit]))
        newer = ids[0] if len(rows) > limit else None
        older = ids[-1] if ids else None
    else:
        if max_id is not None:
            query = query.where(column < max_id)
        rows = (await session.scalars(query.order_by(column.desc()).limit(limit + 1))).all()
        ids = list(rows[:limit])
        older = ids[-1] if len(rows) > limit else None
        newer = ids[0] if max_id is not None and ids else None
    return Page(await load(session, ids), older, newer)


async def versions(session: AsyncSession, scope: Scope, limit: int = PAGE_SIZE) -> list[Version]:
    column = _id_column(scope)
    ids = _ids(scope).order_by(column.desc()).limit(limit).subquery()
    query = (select(Post.id, Actor.name, Post.published_at, Post.edited_at, Post.created_at)
             .join(ids, ids.c.id == Post.id).join(Actor, Actor.id == Post.actor_id).order_by(Post.id.desc()))
    rows = (await session.execute(query)).all()
    return [Version(pid, name, published or created, edited) for pid, name, published, edited, created in rows]


async def last_deletion(session: AsyncSession, scope: Scope) -> datetime | None:
    """When a post of the scope was last deleted: a deletion changes a feed although no remaining
    post changed, so Last-Modified must not go back in time."""
    if scope.kind is ScopeKind.TAG:
        # From the deleted posts (few) to the tag's index, not through every post of a popular tag.
        tagged = select(PostTag.post_id).where(PostTag.tag == scope.tag, PostTag.post_id == Post.id).exists()
        return await session.scalar(select(func.max(Post.deleted_at))
                                    .where(Post.state == PostState.DELETED, tagged))
    deleted = _ids(scope, PostState.DELETED).subquery()
    return await session.scalar(select(func.max(Post.deleted_at)).join(deleted, deleted.c.id == Post.id))


async def load(session: AsyncSession, ids: list[int]) -> list[Post]:
    """The posts with their account and media (two statements whatever the count), in the given order."""
    if not ids:
        return []
    # Readers' pages, feeds and the API never show who wrote or approved a post: the staff accounts (and their
    # accounts' rows) stay unloaded, and a use of them here fails loudly in the tests.
    query = select(Post).where(Post.id.in_(ids)).options(raiseload(Post.author), raiseload(Post.approved_by))
    found = {p.id: p for p in (await session.scalars(query)).unique().all()}
    return [found[i] for i in ids if i in found]


async def find_post(session: AsyncSession, actor_name: str, post_id: int) -> Post | None:
    """A post for a reader's page (permalink, remote follow): without the staff accounts behind it, as `load`."""
    post = await session.get(Post, post_id, options=[raiseload(Post.author), raiseload(Post.approved_by)])
    return post if post is not None and post.actor.name == actor_name else None


async def index_tags(session: AsyncSession, post: Post) -> None:
    """Rewrites the post's hashtag rows; called when a post is published and when it is edited."""
    await session.execute(delete(PostTag).where(PostTag.post_id == post.id))
    tags = dict.fromkeys(normalize_tag(t) for t in parse_text(post.text).hashtags)
    session.add_all(PostTag(tag=tag, post_id=post.id) for tag in tags if tag)
