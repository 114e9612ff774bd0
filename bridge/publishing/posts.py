"""The one post service used by the web form, the CLI and the API.

Each operation writes the post, its jobs and its audit entries in the caller's transaction (a
transactional outbox): either all of it happens or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.delivery import jobs as delivery
from bridge.mail import notices
from bridge.queue import jobs
from bridge.platforms import sends as mirroring
from bridge.publishing import edits, events, polls, timeline
from bridge.publishing.drafts import (MAX_CW, POST_TEXT, Description, Draft, DraftField, PostReason, Refusal,
                                      ReplyTarget, check_draft, content_sha256)
from bridge.config.model import Config
from bridge.store.db import utcnow
from bridge.publishing.hubping import WEBSUB_PING_JOB
from bridge.store.models import Actor, EditState, Media, Post, PostEdit, PostRevision, PostState, User
from bridge.auth.users import may_use_actor, user_ref
from consent.audit import Action, Event, record

PUBLISH_JOB = "publish_post"
__all__ = ["MAX_CW", "POST_TEXT", "Description", "Draft", "DraftField", "PostReason", "Refusal", "ReplyTarget",
           "check_draft", "content_sha256"]


@dataclass(frozen=True)
class PostResult:
    reason: PostReason
    post: Post | None = None
    detail: dict = field(default_factory=dict)
    refusals: tuple[Refusal, ...] = ()  # every rule a refused draft breaks; `reason` is the first
    edit: PostEdit | None = None  # an edit that now waits for another editor's approval

    @classmethod
    def refused(cls, refusals: list[Refusal], post: Post | None = None) -> PostResult:
        return cls(refusals[0].reason, post, refusals=tuple(refusals))

    @property
    def ok(self) -> bool:
        return self.reason is PostReason.OK

    @property
    def description(self) -> str:
        if not self.refusals:
            return POST_TEXT[self.reason]
        return "; ".join(dict.fromkeys(r.description for r in self.refusals))


async def create_post(session: AsyncSession, config: Config, user: User, draft: Draft,
                      now: datetime | None = None) -> PostResult:
    now = now or utcnow()
    check = await check_draft(session, config, user, draft, now)
    if not check.ok:
        return PostResult.refused(check.refusals)
    actor = await session.scalar(select(Actor).where(Actor.name == draft.actor))
    post = Post(actor=actor, actor_id=actor.id, author_id=user.id, state=PostState.DRAFT, text=draft.text,
                spoiler_text=draft.spoiler_text, language=draft.language or config.instance.language,
                mirrors=list(draft.mirrors), scheduled_at=draft.scheduled_at, created_at=now, media=[])
    if draft.reply_to is not None:
        post.in_reply_to, post.in_reply_to_actor = draft.reply_to.note_id, draft.reply_to.actor_uri
        post.in_reply_to_handle = draft.reply_to.handle
    session.add(post)
    await session.flush()
    _attach(post, check.media, draft)
    polls.attach_poll(session, post, draft.poll)
    events.attach_event(session, post, draft.event)
    await record(session, _event(Action.POST_CREATED, user, post, via=draft.via))
    await _advance(session, config, user, post, now)
    return PostResult(PostReason.OK, post)


def _attach(post: Post, media: list[Media], draft: Draft) -> None:
    for position, m in enumerate(media):
        described = draft.description_of(m)
        m.post_id, m.position, m.alt, m.decorative = post.id, position, described.alt, described.decorative
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
        await notices.approval_waiting(session, config, post, user)
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
    await polls.open_poll(session, post, now)
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
    """Approves a post awaiting approval, or the edit waiting for a published post."""
    now = now or utcnow()
    if post.state == PostState.PUBLISHED:
        return await _approve_edit(session, config, user, post, seen_sha256, now)
    refused = _second_pair_of_eyes(user, post, post.state == PostState.AWAITING_APPROVAL, post.author_id,
                                   PostReason.OWN_POST)
    if refused is not None:
        return refused
    if seen_sha256 != content_sha256(post):
        return PostResult(PostReason.TEXT_CHANGED, post)
    _mark_approved(post, user, now, seen_sha256)
    await record(session, _event(Action.POST_APPROVED, user, post, sha256=seen_sha256))
    if post.scheduled_at is not None and post.scheduled_at <= now:
        post.scheduled_at = None  # approved after its slot: publish now rather than never
    await _advance(session, config, user, post, now)
    return PostResult(PostReason.OK, post)


def _mark_approved(post: Post, user: User, now: datetime, sha256: str) -> None:
    post.approved_by_id, post.approved_by, post.approved_at = user.id, user, now
    post.approved_text_sha256 = sha256
    post.review_comment = None


async def _approve_edit(session: AsyncSession, config: Config, user: User, post: Post, seen_sha256: str,
                        now: datetime) -> PostResult:
    """The waiting edit takes effect: the post changes, followers and platforms get the edit."""
    proposal = await edits.load_proposal(session, post)
    waiting = proposal is not None and proposal.pending
    refused = _second_pair_of_eyes(user, post, waiting, proposal.edit.editor_id if waiting else None,
                                   PostReason.OWN_EDIT)
    if refused is not None:
        return refused
    if seen_sha256 != proposal.sha256:
        return PostResult(PostReason.TEXT_CHANGED, post)
    draft = proposal.draft(post.actor.name)
    check = await check_draft(session, config, user, draft, now, post)  # limits or images may have changed
    if not check.ok:
        return PostResult.refused(check.refusals, post)
    if proposal.edit.event is not None:  # an event change rides with the edit: before the Update goes out
        changed, _ = await events.apply_approved(session, post, proposal.edit.event)
        if changed is not events.EventReason.OK:
            return PostResult(PostReason.WRONG_STATE, post)
    await _apply_edit(session, post, draft, check.media, proposal.edit.editor_id, now)
    edits.decide(proposal.edit, user, EditState.APPROVED, now)
    _mark_approved(post, user, now, content_sha256(post))
    await record(session, _event(Action.POST_APPROVED, user, post, sha256=seen_sha256, edit=proposal.edit.id))
    await record(session, _event(Action.POST_EDITED, user, post, edit=proposal.edit.id))
    return PostResult(PostReason.OK, post, edit=proposal.edit)


def _second_pair_of_eyes(user: User, post: Post, waiting: bool, author_id: int | None,
                         own: PostReason) -> PostResult | None:
    """Why `user` may not approve or return what `author_id` wrote, or None if they may."""
    if not waiting:
        return PostResult(PostReason.WRONG_STATE, post)
    if not may_use_actor(user, post.actor.name):
        return PostResult(PostReason.ACTOR_NOT_ALLOWED, post)
    if author_id == user.id:
        return PostResult(own, post)
    return None


async def return_post(session: AsyncSession, user: User, post: Post, comment: str,
                      now: datetime | None = None, config: Config | None = None) -> PostResult:
    """Sends a post awaiting approval, or a published post's waiting edit, back to its author (told by e-mail
    when `config` is given and mail is configured)."""
    if post.state == PostState.PUBLISHED:
        return await _return_edit(session, user, post, comment, now or utcnow(), config)
    refused = _second_pair_of_eyes(user, post, post.state == PostState.AWAITING_APPROVAL, post.author_id,
                                   PostReason.OWN_POST)
    if refused is not None:
        return refused
    post.state = PostState.DRAFT
    post.review_comment = comment.strip()[:2000]
    await record(session, _event(Action.POST_RETURNED, user, post))
    if config is not None:
        await notices.post_returned(session, config, post, post.author_id, user)
    return PostResult(PostReason.OK, post)


async def _return_edit(session: AsyncSession, user: User, post: Post, comment: str, now: datetime,
                       config: Config | None) -> PostResult:
    """The published text stays; the edit goes back to its editor with the comment."""
    proposal = await edits.load_proposal(session, post)
    waiting = proposal is not None and proposal.pending
    refused = _second_pair_of_eyes(user, post, waiting, proposal.edit.editor_id if waiting else None,
                                   PostReason.OWN_EDIT)
    if refused is not None:
        return refused
    edits.decide(proposal.edit, user, EditState.RETURNED, now, comment.strip()[:2000])
    await record(session, _event(Action.POST_RETURNED, user, post, edit=proposal.edit.id))
    if config is not None:
        await notices.post_returned(session, config, post, proposal.edit.editor_id, user, proposal.edit.id)
    return PostResult(PostReason.OK, post, edit=proposal.edit)


def needs_approval_of_edits(config: Config, post: Post) -> bool:
    """Whether an edit of this post must wait for a second editor (a four-eyes account's public post)."""
    actor = config.actor(post.actor.name)
    return post.state == PostState.PUBLISHED and actor is not None and actor.require_approval


async def edit_post(session: AsyncSession, config: Config, user: User, post: Post, draft: Draft,
                    now: datetime | None = None) -> PostResult:
    """Edits a draft (and resubmits it) or a published post (keeping the old text as a revision); on a
    four-eyes account the edit of a published post waits for another editor instead."""
    now = now or utcnow()
    if post.state in (PostState.DELETED, PostState.FAILED):
        return PostResult(PostReason.WRONG_STATE, post)
    draft = replace(draft, actor=post.actor.name)
    if post.state == PostState.PUBLISHED:
        draft = replace(draft, scheduled_at=None)  # a published post cannot be moved back to a schedule
    check = await check_draft(session, config, user, draft, now, post)
    if not check.ok:
        return PostResult.refused(check.refusals, post)
    if needs_approval_of_edits(config, post):
        edit = await edits.propose(session, user, post, draft, check.media, now)
        await record(session, _event(Action.POST_SUBMITTED, user, post, via=draft.via, edit=edit.id))
        await notices.approval_waiting(session, config, post, user)
        return PostResult(PostReason.OK, post, edit=edit)
    if post.state == PostState.PUBLISHED:
        await edits.withdraw(session, post.id)  # approval was switched off meanwhile: this edit wins
        await _apply_edit(session, post, draft, check.media, user.id, now)
    else:
        _replace_content(post, draft, check.media)
    await record(session, _event(Action.POST_EDITED, user, post, via=draft.via))
    if post.state != PostState.PUBLISHED:
        await _resubmit(session, config, user, post, draft, now)
    return PostResult(PostReason.OK, post)


def _replace_content(post: Post, draft: Draft, media: list[Media]) -> None:
    for m in post.media:
        if m.id not in draft.media_ids:
            m.post_id = None
    post.text, post.spoiler_text = draft.text, draft.spoiler_text
    post.language = draft.language or post.language
    post.translations = None  # they translated the old text
    _attach(post, media, draft)


async def _apply_edit(session: AsyncSession, post: Post, draft: Draft, media: list[Media], editor_id: int | None,
                      now: datetime) -> None:
    """A published post changes: the old text is kept, and followers and platforms get the edit."""
    session.add(PostRevision(post_id=post.id, text=post.text, spoiler_text=post.spoiler_text,
                             editor_id=editor_id, created_at=now))
    post.edited_at = now
    _replace_content(post, draft, media)
    await timeline.index_tags(session, post)  # tag pages and feeds follow the edited text
    await delivery.enqueue_fanout(session, post, delivery.Verb.UPDATE)
    await mirroring.enqueue_change(session, post, mirroring.Change.EDIT)


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
    await edits.withdraw(session, post.id)
    await polls.discard_votes(session, post.id)
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
