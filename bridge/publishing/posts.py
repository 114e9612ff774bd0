"""The one post service used by the web form, the CLI and the API.

Each operation writes the post, its jobs and its audit entries in the caller's transaction (a
transactional outbox): either all of it happens or none of it.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.delivery import jobs as delivery
from bridge.queue import jobs
from bridge.platforms import sends as mirroring
from bridge.publishing import timeline
from bridge.config.model import Config, LANGUAGES
from bridge.store.db import utcnow
from bridge.publishing.hubping import WEBSUB_PING_JOB
from bridge.convert.images import MAX_ALT
from bridge.store.models import Actor, Media, Post, PostRevision, PostState, User
from bridge.convert.text import count_characters
from bridge.auth.users import may_use_actor, user_ref
from consent.audit import Action, Event, record

PUBLISH_JOB = "publish_post"
MAX_CW = 500


class PostReason(enum.StrEnum):
    OK = "ok"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    CW_TOO_LONG = "cw_too_long"
    TOO_MANY_IMAGES = "too_many_images"
    MISSING_ALT = "missing_alt"
    ALT_TOO_LONG = "alt_too_long"
    UNKNOWN_MEDIA = "unknown_media"
    UNKNOWN_ACTOR = "unknown_actor"
    ACTOR_NOT_ALLOWED = "actor_not_allowed"
    SCHEDULE_IN_PAST = "schedule_in_past"
    INVALID_LANGUAGE = "invalid_language"
    UNKNOWN_PLATFORM = "unknown_platform"
    NOT_FOUND = "not_found"
    WRONG_STATE = "wrong_state"
    OWN_POST = "own_post"
    TEXT_CHANGED = "text_changed"


POST_TEXT = {
    PostReason.OK: "done",
    PostReason.EMPTY: "write some text or attach an image",
    PostReason.TOO_LONG: "the text is longer than allowed",
    PostReason.CW_TOO_LONG: "the content warning is too long",
    PostReason.TOO_MANY_IMAGES: "too many images",
    PostReason.MISSING_ALT: "every image needs alt text, or must be marked as decorative",
    PostReason.ALT_TOO_LONG: "alt text may have at most 1500 characters",
    PostReason.UNKNOWN_MEDIA: "an attached image does not exist or is already used",
    PostReason.UNKNOWN_ACTOR: "no such account",
    PostReason.ACTOR_NOT_ALLOWED: "you may not post as this account",
    PostReason.SCHEDULE_IN_PAST: "the scheduled time must be in the future",
    PostReason.INVALID_LANGUAGE: "unsupported language",
    PostReason.UNKNOWN_PLATFORM: "no such platform account in the configuration",
    PostReason.NOT_FOUND: "no such post",
    PostReason.WRONG_STATE: "the post is not in a state that allows this",
    PostReason.OWN_POST: "nobody approves their own post; another editor of this account must",
    PostReason.TEXT_CHANGED: "the post changed while you reviewed it; review it again",
}


@dataclass(frozen=True)
class ReplyTarget:
    """The remote note a post answers, and its author (actor id and "@user@host"), to mention and cc."""

    note_id: str
    actor_uri: str
    handle: str


@dataclass(frozen=True)
class Draft:
    """What an editor, script or CLI user asks to publish."""

    actor: str
    text: str
    spoiler_text: str = ""
    language: str | None = None
    media_ids: tuple[int, ...] = ()
    scheduled_at: datetime | None = None
    mirrors: tuple[str, ...] = ()
    via: str = "web"  # "web", "cli", "api" — recorded in the audit entry
    reply_to: ReplyTarget | None = None  # an answer as the account to a citizen's reply


@dataclass(frozen=True)
class PostResult:
    reason: PostReason
    post: Post | None = None
    detail: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.reason is PostReason.OK

    @property
    def description(self) -> str:
        return POST_TEXT[self.reason]


def content_sha256(post: Post) -> str:
    """Fingerprint of exactly what a reviewer saw: text, warning, language and image descriptions."""
    parts = [post.text, post.spoiler_text, post.language] + [f"{m.filename}|{m.alt}" for m in post.media]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


async def check_draft(session: AsyncSession, config: Config, user: User, draft: Draft,
                      now: datetime, post: Post | None = None) -> tuple[PostReason, list[Media]]:
    if config.actor(draft.actor) is None:
        return PostReason.UNKNOWN_ACTOR, []
    if not may_use_actor(user, draft.actor):
        return PostReason.ACTOR_NOT_ALLOWED, []
    if draft.language is not None and draft.language not in LANGUAGES:
        return PostReason.INVALID_LANGUAGE, []
    known = {p.id for p in config.platforms}
    if any(m not in known for m in draft.mirrors):
        return PostReason.UNKNOWN_PLATFORM, []
    if len(draft.media_ids) > config.limits.max_images:
        return PostReason.TOO_MANY_IMAGES, []
    media = await _load_media(session, draft, post)
    if media is None:
        return PostReason.UNKNOWN_MEDIA, []
    if not draft.text.strip() and not media:
        return PostReason.EMPTY, media
    if count_characters(draft.text) + len(draft.spoiler_text) > config.limits.max_characters:
        return PostReason.TOO_LONG, media
    if len(draft.spoiler_text) > MAX_CW:
        return PostReason.CW_TOO_LONG, media
    if any(not m.alt.strip() and not m.decorative for m in media):
        return PostReason.MISSING_ALT, media
    if any(len(m.alt) > MAX_ALT for m in media):
        return PostReason.ALT_TOO_LONG, media
    if draft.scheduled_at is not None and draft.scheduled_at <= now:
        return PostReason.SCHEDULE_IN_PAST, media
    return PostReason.OK, media


async def _load_media(session: AsyncSession, draft: Draft, post: Post | None) -> list[Media] | None:
    if not draft.media_ids:
        return []
    rows = {m.id: m for m in (await session.scalars(select(Media).where(Media.id.in_(draft.media_ids)))).all()}
    media = [rows.get(i) for i in draft.media_ids]
    for m in media:
        if m is None or (m.post_id is not None and (post is None or m.post_id != post.id)):
            return None
        if m.actor_id != (await _actor_id(session, draft.actor)):
            return None
    return media  # type: ignore[return-value]


async def _actor_id(session: AsyncSession, name: str) -> int | None:
    return await session.scalar(select(Actor.id).where(Actor.name == name))


async def create_post(session: AsyncSession, config: Config, user: User, draft: Draft,
                      now: datetime | None = None) -> PostResult:
    now = now or utcnow()
    reason, media = await check_draft(session, config, user, draft, now)
    if reason is not PostReason.OK:
        return PostResult(reason)
    actor = await session.scalar(select(Actor).where(Actor.name == draft.actor))
    post = Post(actor=actor, actor_id=actor.id, author_id=user.id, state=PostState.DRAFT, text=draft.text,
                spoiler_text=draft.spoiler_text, language=draft.language or config.instance.language,
                mirrors=list(draft.mirrors), scheduled_at=draft.scheduled_at, created_at=now, media=[])
    if draft.reply_to is not None:
        post.in_reply_to, post.in_reply_to_actor = draft.reply_to.note_id, draft.reply_to.actor_uri
        post.in_reply_to_handle = draft.reply_to.handle
    session.add(post)
    await session.flush()
    _attach(post, media)
    await record(session, _event(Action.POST_CREATED, user, post, via=draft.via))
    await _advance(session, config, user, post, now)
    return PostResult(PostReason.OK, post)


def _attach(post: Post, media: list[Media]) -> None:
    for position, m in enumerate(media):
        m.post_id, m.position = post.id, position
    post.media = list(media)


def _event(action: Action, user: User, post: Post, **details) -> Event:
    return Event(action, user.role, user_ref(user), subject_ref=f"post:{post.id}",
                 details={"actor": post.actor.name, **details})


async def _advance(session: AsyncSession, config: Config, user: User, post: Post, now: datetime) -> None:
    """Moves a new or resubmitted post on: to approval, to the schedule, or straight to publication."""
    needs_approval = config.actor(post.actor.name).require_approval and post.approved_by_id is None
    if needs_approval:
        post.state = PostState.AWAITING_APPROVAL
        await record(session, _event(Action.POST_SUBMITTED, user, post))
    elif post.scheduled_at is not None and post.scheduled_at > now:
        post.state = PostState.SCHEDULED
        await jobs.enqueue(session, PUBLISH_JOB, {"post_id": post.id}, run_at=post.scheduled_at, post_id=post.id)
        await record(session, _event(Action.POST_SCHEDULED, user, post, at=post.scheduled_at.isoformat()))
    else:
        await publish(session, post, now, actor_role=user.role, actor_ref=user_ref(user),
                      websub_hub=config.feeds.websub_hub)


async def publish(session: AsyncSession, post: Post, now: datetime, actor_role: str = "system",
                  actor_ref: str = "system", *, websub_hub: str | None = None) -> None:
    """The single point where a post becomes public; federation and mirrors hook in here."""
    post.state = PostState.PUBLISHED
    post.published_at = now
    post.failure_reason = None
    await timeline.index_tags(session, post)
    if websub_hub:  # feed readers subscribed through the hub learn of the post without polling
        await jobs.enqueue(session, WEBSUB_PING_JOB, {"post_id": post.id}, post_id=post.id)
    await delivery.enqueue_fanout(session, post, delivery.Verb.CREATE)
    await mirroring.enqueue_sends(session, post)  # one job per selected platform, in this transaction
    await record(session, Event(Action.POST_PUBLISHED, actor_role, actor_ref, subject_ref=f"post:{post.id}",
                                details={"actor": post.actor.name}))


async def publish_scheduled(session: AsyncSession, post_id: int, now: datetime | None = None, *,
                            websub_hub: str | None = None) -> PostReason:
    """Job handler for PUBLISH_JOB: a scheduled post whose time has come."""
    now = now or utcnow()
    post = await session.get(Post, post_id)
    if post is None:
        return PostReason.NOT_FOUND
    if post.state != PostState.SCHEDULED:
        return PostReason.WRONG_STATE  # deleted or already published meanwhile: nothing to do
    await publish(session, post, now, websub_hub=websub_hub)
    return PostReason.OK


async def approve_post(session: AsyncSession, config: Config, user: User, post: Post,
                       seen_sha256: str, now: datetime | None = None) -> PostResult:
    now = now or utcnow()
    if post.state != PostState.AWAITING_APPROVAL:
        return PostResult(PostReason.WRONG_STATE, post)
    if not may_use_actor(user, post.actor.name):
        return PostResult(PostReason.ACTOR_NOT_ALLOWED, post)
    if post.author_id == user.id:
        return PostResult(PostReason.OWN_POST, post)
    if seen_sha256 != content_sha256(post):
        return PostResult(PostReason.TEXT_CHANGED, post)
    post.approved_by_id, post.approved_by, post.approved_at = user.id, user, now
    post.approved_text_sha256 = seen_sha256
    post.review_comment = None
    await record(session, _event(Action.POST_APPROVED, user, post, sha256=seen_sha256))
    if post.scheduled_at is not None and post.scheduled_at <= now:
        post.scheduled_at = None  # approved after its slot: publish now rather than never
    await _advance(session, config, user, post, now)
    return PostResult(PostReason.OK, post)


async def return_post(session: AsyncSession, user: User, post: Post, comment: str) -> PostResult:
    if post.state != PostState.AWAITING_APPROVAL:
        return PostResult(PostReason.WRONG_STATE, post)
    if not may_use_actor(user, post.actor.name):
        return PostResult(PostReason.ACTOR_NOT_ALLOWED, post)
    if post.author_id == user.id:
        return PostResult(PostReason.OWN_POST, post)
    post.state = PostState.DRAFT
    post.review_comment = comment.strip()[:2000]
    await record(session, _event(Action.POST_RETURNED, user, post))
    return PostResult(PostReason.OK, post)


async def edit_post(session: AsyncSession, config: Config, user: User, post: Post, draft: Draft,
                    now: datetime | None = None) -> PostResult:
    """Edits a draft (and resubmits it) or a published post (keeping the old text as a revision)."""
    now = now or utcnow()
    if post.state in (PostState.DELETED, PostState.FAILED):
        return PostResult(PostReason.WRONG_STATE, post)
    draft = replace(draft, actor=post.actor.name)
    if post.state == PostState.PUBLISHED:
        draft = replace(draft, scheduled_at=None)  # a published post cannot be moved back to a schedule
    reason, media = await check_draft(session, config, user, draft, now, post)
    if reason is not PostReason.OK:
        return PostResult(reason, post)
    if post.state == PostState.PUBLISHED:
        session.add(PostRevision(post_id=post.id, text=post.text, spoiler_text=post.spoiler_text,
                                 editor_id=user.id, created_at=now))
        post.edited_at = now
    for m in post.media:
        if m.id not in draft.media_ids:
            m.post_id = None
    post.text, post.spoiler_text = draft.text, draft.spoiler_text
    post.language = draft.language or post.language
    _attach(post, media)
    if post.state == PostState.PUBLISHED:
        await timeline.index_tags(session, post)  # tag pages and feeds follow the edited text
        await delivery.enqueue_fanout(session, post, delivery.Verb.UPDATE)
        await mirroring.enqueue_change(session, post, mirroring.Change.EDIT)
    await record(session, _event(Action.POST_EDITED, user, post, via=draft.via))
    if post.state != PostState.PUBLISHED:
        await _resubmit(session, config, user, post, draft, now)
    return PostResult(PostReason.OK, post)


async def _resubmit(session: AsyncSession, config: Config, user: User, post: Post, draft: Draft,
                    now: datetime) -> None:
    await jobs.cancel_for_post(session, post.id)
    post.scheduled_at = draft.scheduled_at
    post.approved_by_id = post.approved_at = post.approved_text_sha256 = None
    post.approved_by = None
    post.state = PostState.DRAFT
    await _advance(session, config, user, post, now)


async def delete_post(session: AsyncSession, user: User, post: Post, now: datetime | None = None) -> PostResult:
    if post.state == PostState.DELETED:
        return PostResult(PostReason.WRONG_STATE, post)
    if not may_use_actor(user, post.actor.name):
        return PostResult(PostReason.ACTOR_NOT_ALLOWED, post)
    was_public = post.state == PostState.PUBLISHED
    post.state = PostState.DELETED
    post.deleted_at = now or utcnow()
    post.pinned = False
    await jobs.cancel_for_post(session, post.id)
    if was_public:  # servers that received the post must drop it
        await delivery.enqueue_fanout(session, post, delivery.Verb.DELETE)
        await mirroring.enqueue_change(session, post, mirroring.Change.DELETE)
    await record(session, _event(Action.POST_DELETED, user, post))
    return PostResult(PostReason.OK, post)


async def pin_post(session: AsyncSession, user: User, post: Post, pinned: bool) -> PostResult:
    """Pins a published post to the top of its account (Mastodon's featured collection)."""
    if post.state != PostState.PUBLISHED:
        return PostResult(PostReason.WRONG_STATE, post)
    if not may_use_actor(user, post.actor.name):
        return PostResult(PostReason.ACTOR_NOT_ALLOWED, post)
    post.pinned = pinned
    return PostResult(PostReason.OK, post)


async def list_posts(session: AsyncSession, actor_name: str, state: str | None = None,
                     limit: int = 50, before_id: int | None = None) -> list[Post]:
    query = select(Post).join(Actor).where(Actor.name == actor_name)
    if state:
        query = query.where(Post.state == state)
    if before_id:
        query = query.where(Post.id < before_id)
    return list((await session.scalars(query.order_by(Post.id.desc()).limit(limit))).all())
