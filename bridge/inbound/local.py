"""Recognising our own URIs in inbound activities: which account an actor URI names, which published
post a note URI or permalink names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.origins import same_origin
from activitypub.uris import Uris
from bridge.config.model import Config
from bridge.store.models import Actor, Post, PostState


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


def post_ref(config: Config, uris: Uris, uri: str | None) -> tuple[str, int] | None:
    """(account, post id) named by one of our note URIs or permalinks, without asking the database."""
    return _post_ref(config, uris, uri) if is_ours(uris, uri) else None


async def local_post(session: AsyncSession, config: Config, uris: Uris, uri: str | None) -> LocalPost | None:
    """The published post behind one of our note URIs (or permalinks); None for anything else."""
    return (await local_posts(session, config, uris, [uri])).get(uri) if uri else None


async def local_posts(session: AsyncSession, config: Config, uris: Uris,
                      wanted: Iterable[str]) -> dict[str, LocalPost]:
    """The published posts behind those of `wanted` that name one, by URI: one query for a whole batch."""
    refs = {uri: ref for uri in wanted if (ref := post_ref(config, uris, uri)) is not None}
    if not refs:
        return {}
    rows = await session.execute(select(Post.id, Actor.name).join(Actor, Actor.id == Post.actor_id).where(
        Post.id.in_({ref[1] for ref in refs.values()}), Post.state == PostState.PUBLISHED))
    found = {(post_id, name) for post_id, name in rows}
    return {uri: LocalPost(ref[1], ref[0]) for uri, ref in refs.items() if (ref[1], ref[0]) in found}
