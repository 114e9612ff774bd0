"""Read versions: one change counter per account, one for the instance and one for shown replies.

Whatever readers see is cached by the version of what it shows (`bridge.web.readcache`). The rule that keeps
that cache right lives here, in one place: every ORM flush that writes a row belonging to an account bumps
that account's version and the instance's, in the same transaction. A row belongs to an account through its
`actor_id`, its `post_id` or `post_ids` (the posts' accounts) or, for the account itself, its id; tables of people outside
the authority (consent's replies, consents, subjects) and domain blocks bump the replies version, which only
pages showing replies depend on; followers (`FOLLOWER_TABLES`) bump the followers version, which only
the followers collections depend on. Tables nobody reads publicly (`PRIVATE`) bump nothing. ORM bulk statements
(`session.execute(update(Post)…)`) cannot say which rows they touched: they bump every version. The table also
keeps the count of published posts per account and for the instance, so no page counts them per request.
Rows of the instance itself (the platforms connected in the browser) bump the instance's version alone.

A process re-reads all versions at most every `recheck` seconds (one small query), and at once after its own
commits: another process's change shows within that time, its own at once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Integer, func, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy import event

from bridge.store.db import Base, upsert_dialect
from bridge.store.models import Actor, Post, PostState

INSTANCE = 0  # the instance's row; account rows use the account's id (ids start at 1)
REPLIES = -1  # replies shown under posts: consent, moderation and domain blocks decide them
FOLLOWERS = -2  # the followers collections' counts: one version for all accounts (follows are rare)
PEOPLE = (REPLIES, FOLLOWERS)  # versions of people outside the authority: no account's, not the instance's
# Rows nobody sees publicly, written often: bumping for them would only empty the cache.
PRIVATE = frozenset({
    "read_version", "job", "api_token", "oauth_code", "oauth_app", "oauth_app_token", "idempotency_key",
    "web_session", "signin_throttle", "user_account", "user_actor", "worker_heartbeat", "delivery_host",
    "audit_entry", "audit_head", "audit_checkpoint", "inbound_seen", "security_event", "rights_request",
    "post_tag",  # rewritten only with its post, which bumps
    # staff-only or counted-only rows: a vote changes the poll row (which bumps), a page view changes no page
    "poll_vote", "page_view", "feed_subscribers", "password_reset", "recovery_code", "warning_source_state",
    "platform_answer", "reply_handling", "answer_template", "platform_send", "feed_import_state", "imported_item",
})
# Rows of the instance as a whole, owned by no account: the platforms connected in the browser. Processes
# reload their accounts and platforms when the instance version moves (`bridge.web.middleware`).
INSTANCE_TABLES = frozenset({"platform_connection"})
REPLY_TABLES = frozenset({"reply", "subject", "remote_actor", "consent_receipt", "consent_request",
                          "consent_text", "domain_block", "interaction"})
# Followers: counted once per change for the followers collections, never per request. A subject erased with
# its follows bumps REPLIES (subject), which the collections depend on too.
FOLLOWER_TABLES = frozenset({"follower"})
_PENDING = "read_versions_changed"

# Counts this process's commits that bumped a version; boards compare it to re-read at once.
_local_changes = itertools.count(1)
_local_generation = 0


class ReadVersion(Base):
    __tablename__ = "read_version"
    scope: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    posts: Mapped[int] = mapped_column(Integer, default=0)  # published posts, kept in step by `_bump`


@dataclass
class _Changes:
    scopes: set[int] = field(default_factory=set)
    posts: dict[int, int] = field(default_factory=dict)  # account id → change of its published posts
    post_ids: set[int] = field(default_factory=set)  # rows owned through a post not loaded here
    instance: bool = False  # a row of the instance itself (INSTANCE_TABLES)
    everything: bool = False


def _owner(obj, changes: _Changes) -> None:
    table = getattr(obj, "__tablename__", "")
    if table in PRIVATE:
        return
    if table in REPLY_TABLES:
        changes.scopes.add(REPLIES)
    elif table in FOLLOWER_TABLES:
        changes.scopes.add(FOLLOWERS)
    elif table in INSTANCE_TABLES:
        changes.instance = True
    elif isinstance(obj, Actor):
        if obj.id is not None:
            changes.scopes.add(obj.id)
    elif getattr(obj, "actor_id", None) is not None:
        changes.scopes.add(obj.actor_id)
    elif getattr(obj, "post_id", None) is not None:
        changes.post_ids.add(obj.post_id)
    elif getattr(obj, "post_ids", None):  # a row shown on the pages of its posts (an official warning)
        changes.post_ids.update(obj.post_ids)


def _published_delta(post: Post, state: str) -> int:
    published = post.state == PostState.PUBLISHED
    if state == "new":
        return int(published)
    history = inspect(post).attrs.state.history
    if state == "deleted":
        before = history.deleted[0] if history.deleted else post.state
        return -int(before == PostState.PUBLISHED)
    if not history.has_changes():
        return 0
    before = history.deleted[0] if history.deleted else None
    return int(published) - int(before == PostState.PUBLISHED)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    """Still inside the flush's transaction: the bump commits or rolls back with the change."""
    changes = _Changes()
    for state, objects in (("new", session.new), ("dirty", session.dirty), ("deleted", session.deleted)):
        for obj in objects:
            if state == "dirty" and not session.is_modified(obj, include_collections=False):
                continue
            _owner(obj, changes)
            if isinstance(obj, Post) and obj.actor_id is not None:
                delta = _published_delta(obj, state)
                if delta:
                    changes.posts[obj.actor_id] = changes.posts.get(obj.actor_id, 0) + delta
    if changes.scopes or changes.posts or changes.post_ids or changes.instance:
        _bump(session, changes)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    table = mapper.local_table.name if mapper is not None else ""
    if mapper is None or table in PRIVATE:
        return
    if table in REPLY_TABLES or table in FOLLOWER_TABLES:
        _bump(state.session, _Changes(scopes={REPLIES if table in REPLY_TABLES else FOLLOWERS}))
    else:
        _bump(state.session, _Changes(everything=True))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    global _local_generation
    if session.info.pop(_PENDING, False):
        _local_generation = next(_local_changes)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _bump(session: Session, changes: _Changes) -> None:
    connection = session.connection()
    if changes.everything:
        connection.execute(update(ReadVersion).values(version=ReadVersion.version + 1))
        session.info[_PENDING] = True
        return
    if changes.post_ids:
        owners = connection.execute(select(Post.actor_id).where(Post.id.in_(changes.post_ids)).distinct())
        changes.scopes.update(owner for (owner,) in owners)
    accounts = (changes.scopes | changes.posts.keys()) - set(PEOPLE)
    rows = {scope: changes.posts.get(scope, 0) for scope in accounts}
    if accounts or changes.instance:
        rows[INSTANCE] = sum(changes.posts.values())
    for scope in PEOPLE:
        if scope in changes.scopes:
            rows[scope] = 0
    insert = upsert_dialect(connection).insert
    for scope in sorted(rows):  # one order in every transaction: no deadlock between two writers
        statement = insert(ReadVersion).values(scope=scope, version=1, posts=max(rows[scope], 0))
        connection.execute(statement.on_conflict_do_update(
            index_elements=[ReadVersion.scope],
            set_={"version": ReadVersion.version + 1, "posts": ReadVersion.posts + rows[scope]}))
    session.info[_PENDING] = True


@dataclass(frozen=True)
class Snapshot:
    versions: dict[int, int]
    posts: dict[int, int]
    accounts: dict[str, int]  # account name → id, to find an account's scope without a query

    def version(self, scope: int) -> int:
        return self.versions.get(scope, 0)


class VersionBoard:
    """This process's copy of the versions: re-read after `recheck` seconds or after a local commit."""

    def __init__(self, engine: AsyncEngine, recheck: float):
        self.engine, self.recheck = engine, recheck
        self.snapshot: Snapshot | None = None
        self.read_at = 0.0
        self.generation = -1
        self._lock = asyncio.Lock()

    async def current(self) -> Snapshot:
        if self.fresh():
            return self.snapshot
        async with self._lock:  # many requests at once wait for one read
            if not self.fresh():
                generation, started = _local_generation, time.monotonic()
                self.snapshot = await read_snapshot(self.engine)
                self.read_at, self.generation = started, generation
        return self.snapshot

    def fresh(self) -> bool:
        return (self.snapshot is not None and self.generation == _local_generation
                and time.monotonic() - self.read_at < self.recheck)


async def read_snapshot(engine: AsyncEngine) -> Snapshot:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(ReadVersion.scope, ReadVersion.version, ReadVersion.posts))).all()
        accounts = dict((await connection.execute(select(Actor.name, Actor.id))).all())
    return Snapshot({s: v for s, v, _ in rows}, {s: p for s, _, p in rows}, accounts)


async def recount(engine: AsyncEngine) -> None:
    """Sets the post counts from the posts (after rows were written past the ORM, e.g. by a bulk import)."""
    async with engine.begin() as connection:
        counts = dict((await connection.execute(
            select(Post.actor_id, func.count()).where(Post.state == PostState.PUBLISHED)
            .group_by(Post.actor_id))).all())
        counts[INSTANCE] = sum(counts.values())
        insert = upsert_dialect(connection).insert
        for scope, n in sorted(counts.items()):
            await connection.execute(insert(ReadVersion).values(scope=scope, version=1, posts=n).on_conflict_do_update(
                index_elements=[ReadVersion.scope], set_={"version": ReadVersion.version + 1, "posts": n}))
    global _local_generation
    _local_generation = next(_local_changes)
