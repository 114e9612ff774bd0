"""Helpers for the public page and feed tests: an editor, posts made through the post service."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image
from sqlalchemy import select

from bridge.publishing import posts
from bridge.store.models import Post, Role, User
from bridge.publishing.posts import Draft
from bridge.publishing.uploads import upload_image
from testkit import add_user


def png(size=(40, 30), colour="red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


async def editor(sessions, password_hash: str, name: str = "erika") -> int:
    async with sessions.begin() as s:
        user = await add_user(s, name, Role.EDITOR, ["stadt", "feuerwehr"], password_hash)
        return user.id


async def publish(sessions, config, user_id: int, text: str, *, actor: str = "stadt", cw: str = "",
                  images: tuple[tuple[str, bool], ...] = (), now: datetime | None = None) -> int:
    """A post through `create_post`; `images` are (alt text, decorative) pairs."""
    async with sessions.begin() as s:
        user = await s.get(User, user_id)
        media_ids = []
        for alt, decorative in images:
            uploaded = await upload_image(s, config, user, actor, png(), alt=alt, decorative=decorative)
            assert uploaded.ok, uploaded.description
            media_ids.append(uploaded.media.id)
        result = await posts.create_post(s, config, user, Draft(actor, text, spoiler_text=cw,
                                                               media_ids=tuple(media_ids)), now=now)
        assert result.ok, result.reason
        return result.post.id


async def edit(sessions, config, user_id: int, post_id: int, text: str, now: datetime | None = None) -> None:
    async with sessions.begin() as s:
        post = await s.get(Post, post_id)
        draft = Draft(post.actor.name, text, spoiler_text=post.spoiler_text,
                      media_ids=tuple(m.id for m in post.media))
        result = await posts.edit_post(s, config, await s.get(User, user_id), post, draft, now=now)
        assert result.ok, result.reason


async def delete(sessions, user_id: int, post_id: int) -> None:
    async with sessions.begin() as s:
        result = await posts.delete_post(s, await s.get(User, user_id), await s.get(Post, post_id))
        assert result.ok, result.reason


async def post_ids(sessions, actor: str = "stadt") -> list[int]:
    async with sessions() as s:
        return list((await s.scalars(select(Post.id).order_by(Post.id.desc()))).all())
