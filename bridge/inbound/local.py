"""Recognising our own URIs in inbound activities: which account an actor URI names, which published
post a note URI or permalink names."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.origins import same_origin
from activitypub.uris import Uris
from bridge.config import Config
from bridge.models import Actor, Post, PostState


@dataclass(frozen=True)
class LocalPost:
    id: int
    actor_name: str


def is_ours(uris: Uris, uri: str | None) -> bool:
    return bool(uri) and same_origin(uri, uris.base_url)


def local_actor(config: Config, uris: Uris, uri: str | None) -> str | None:
    """The configured account with this actor URI (the instance actor is nobody's to follow)."""
    if not is_ours(uris, uri):
        return None
    return next((a.name for a in config.actors if uris.actor(a.name) == uri), None)


def mentioned_actor(config: Config, uris: Uris, mentions) -> str | None:
    return next((a.name for a in config.actors if uris.actor(a.name) in mentions), None)


def _post_ref(config: Config, uris: Uris, uri: str) -> tuple[str, int] | None:
    bare = uri.partition("#")[0].partition("?")[0].rstrip("/")
    for actor in config.actors:
        for prefix in (uris.note(actor.name, ""), uris.permalink(actor.name, "")):
            rest = unquote(bare[len(prefix):]) if bare.startswith(prefix) else ""
            if rest.isdigit():
                return actor.name, int(rest)
    return None


async def local_post(session: AsyncSession, config: Config, uris: Uris, uri: str | None) -> LocalPost | None:
    """The published post behind one of our note URIs (or permalinks); None for anything else."""
    if not is_ours(uris, uri):
        return None
    ref = _post_ref(config, uris, uri)
    if ref is None:
        return None
    found = await session.scalar(select(Post.id).join(Actor, Actor.id == Post.actor_id).where(
        Post.id == ref[1], Actor.name == ref[0], Post.state == PostState.PUBLISHED))
    return LocalPost(found, ref[0]) if found is not None else None
