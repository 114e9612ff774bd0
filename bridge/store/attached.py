"""Reading what a post carries beside its text (its poll, its event) without lazy loads: an async session
cannot load a relationship on attribute access, so the attribute is read only when it was loaded (always,
for a post read from the database: `selectin`), and the database is asked otherwise."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


def loaded(post: Any, name: str) -> Any:
    """The relationship `name` of `post` as loaded with it; None when it was never loaded or set."""
    return None if name in inspect(post).unloaded else getattr(post, name)


async def load(session: AsyncSession, post: Any, name: str, model: type[T]) -> T | None:
    """The relationship `name` of `post`, from the database if it was not loaded with the post."""
    if name not in inspect(post).unloaded:
        return getattr(post, name)
    return await session.scalar(select(model).where(model.post_id == post.id))  # type: ignore[attr-defined]
