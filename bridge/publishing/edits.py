"""Edits of published posts of four-eyes accounts, kept aside until another editor decides.

The post row is what every public form shows (permalink, Note, API status, feeds), so an edit waiting
here changes nothing public. One edit per post waits at a time: a newer one supersedes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.publishing.drafts import Description, Draft, fingerprint
from bridge.store.models import Actor, EditState, Media, Post, PostEdit, PostState, User

OPEN = (EditState.PENDING, EditState.RETURNED)


@dataclass(frozen=True)
class ProposedImage:
    media: Media
    alt: str
    decorative: bool


@dataclass(frozen=True)
class Proposal:
    """The latest undecided or returned edit of a post, with its images as proposed."""

    edit: PostEdit
    images: list[ProposedImage]

    @property
    def pending(self) -> bool:
        return self.edit.state == EditState.PENDING

    @property
    def sha256(self) -> str:
        seen = fingerprint(self.edit.text, self.edit.spoiler_text, self.edit.language,
                           [(i.media.filename, i.alt) for i in self.images])
        if self.edit.event is None:
            return seen
        # the event change is part of what the reviewer saw
        return hashlib.sha256(f"{seen}\x1f{json.dumps(self.edit.event, sort_keys=True)}".encode()).hexdigest()

    def draft(self, actor: str) -> Draft:
        return Draft(actor=actor, text=self.edit.text, spoiler_text=self.edit.spoiler_text,
                     language=self.edit.language, media_ids=tuple(i.media.id for i in self.images),
                     descriptions=tuple(Description(i.media.id, i.alt, i.decorative) for i in self.images))


async def load_proposal(session: AsyncSession, post: Post) -> Proposal | None:
    """The edit an editor of the post should see: waiting, or returned and not yet redone."""
    if post.state != PostState.PUBLISHED:
        return None
    edit = await session.scalar(select(PostEdit).where(PostEdit.post_id == post.id).order_by(PostEdit.id.desc())
                                .limit(1))
    if edit is None or edit.state not in OPEN:
        return None
    ids = [int(i["id"]) for i in edit.media]
    rows = {m.id: m for m in (await session.scalars(select(Media).where(Media.id.in_(ids)))).all()} if ids else {}
    images = [ProposedImage(rows[int(i["id"])], i.get("alt", ""), bool(i.get("decorative")))
              for i in edit.media if int(i["id"]) in rows]
    return Proposal(edit, images)


async def propose(session: AsyncSession, user: User, post: Post, draft: Draft, media: list[Media],
                  now: datetime) -> PostEdit:
    await session.execute(update(PostEdit).where(PostEdit.post_id == post.id, PostEdit.state == EditState.PENDING)
                          .values(state=EditState.SUPERSEDED))
    images = []
    for m in media:
        described = draft.description_of(m)
        images.append({"id": m.id, "alt": described.alt, "decorative": described.decorative})
    edit = PostEdit(post_id=post.id, editor_id=user.id, state=EditState.PENDING, text=draft.text,
                    spoiler_text=draft.spoiler_text, language=draft.language or post.language, media=images,
                    created_at=now)
    session.add(edit)
    await session.flush()
    return edit


async def propose_event(session: AsyncSession, user: User, post: Post, event: dict, now: datetime) -> PostEdit:
    """An event change of a four-eyes account waits like an edit: the post's text and images as they are,
    with the change (`events.event_payload`) beside them."""
    await session.execute(update(PostEdit).where(PostEdit.post_id == post.id, PostEdit.state == EditState.PENDING)
                          .values(state=EditState.SUPERSEDED))
    edit = PostEdit(post_id=post.id, editor_id=user.id, state=EditState.PENDING, text=post.text,
                    spoiler_text=post.spoiler_text, language=post.language,
                    media=[{"id": m.id, "alt": m.alt, "decorative": m.decorative} for m in post.media],
                    event=event, created_at=now)
    session.add(edit)
    await session.flush()
    return edit


async def withdraw(session: AsyncSession, post_id: int) -> None:
    """Nothing waits any more for a post that is deleted, or was edited without approval meanwhile."""
    await session.execute(update(PostEdit).where(PostEdit.post_id == post_id, PostEdit.state == EditState.PENDING)
                          .values(state=EditState.WITHDRAWN))


def decide(edit: PostEdit, user: User, state: EditState, now: datetime, comment: str | None = None) -> None:
    edit.state, edit.decided_by_id, edit.decided_at, edit.review_comment = state, user.id, now, comment


async def waiting_edits(session: AsyncSession, actor_names: list[str]) -> list[tuple[PostEdit, Post]]:
    """Edits that wait for approval in the given accounts, oldest first (the reviewers' queue)."""
    if not actor_names:
        return []
    rows = await session.execute(
        select(PostEdit, Post).join(Post, Post.id == PostEdit.post_id).join(Actor, Actor.id == Post.actor_id)
        .where(Actor.name.in_(actor_names), PostEdit.state == EditState.PENDING, Post.state == PostState.PUBLISHED)
        .order_by(PostEdit.id))
    return [(edit, post) for edit, post in rows.all()]


async def posts_with_waiting_edits(session: AsyncSession, post_ids: list[int]) -> set[int]:
    if not post_ids:
        return set()
    return set((await session.scalars(select(PostEdit.post_id).where(
        PostEdit.post_id.in_(post_ids), PostEdit.state == EditState.PENDING))).all())
