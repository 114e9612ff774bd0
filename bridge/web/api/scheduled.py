"""`/api/v1/scheduled_statuses`: the token's account's posts that wait for their time.

A scheduled status is the post itself (same id as `/api/v1/statuses/:id`), so moving or deleting it
goes through the one post service: `edit_post` reschedules (on a four-eyes account the new time needs
a new approval, as in the web form), `delete_post` removes it.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.mastodon import post_to_scheduled_status
from bridge.publishing.posts import Draft, PostReason, delete_post, edit_post
from bridge.store.db import utcnow
from bridge.store.models import ApiToken, Post
from bridge.web.api.accounts import PRIVATE
from bridge.web.api.pages import link_header, page_ids, read_cursor
from bridge.web.api.request import NOT_FOUND, api_error, authorize, path_id, read_params, validation_error
from bridge.web.api.statuses import WAITING, read_scheduled_at, refused

MISSING_TIME = "scheduled_at can't be blank"


def _waiting(query, actor_id: int):
    return query.where(Post.actor_id == actor_id, Post.state.in_(WAITING), Post.scheduled_at.is_not(None))


async def _own_scheduled(session: AsyncSession, request: web.Request, token: ApiToken) -> Post:
    post = await session.scalar(_waiting(select(Post), token.actor_id).where(Post.id == path_id(request)))
    if post is None:
        raise api_error(404, NOT_FOUND)
    return post


async def list_scheduled(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        cursor = read_cursor(await read_params(request))
        ids = await page_ids(session, _waiting(select(Post.id), token.actor_id), Post.id, cursor)
        posts = {p.id: p for p in (await session.scalars(select(Post).where(Post.id.in_(ids)))).unique()}
        await session.commit()
    uris = Uris.for_base(config.instance.base_url)
    body = [post_to_scheduled_status(posts[i], uris) for i in ids if i in posts]
    return web.json_response(body, headers=PRIVATE | link_header(config.instance.base_url, request, ids))


async def show_scheduled(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        post = await _own_scheduled(session, request, token)
        await session.commit()
    return web.json_response(post_to_scheduled_status(post, Uris.for_base(config.instance.base_url)), headers=PRIVATE)


async def reschedule(request: web.Request) -> web.Response:
    config, now = request.app[CONFIG], utcnow()
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        post = await _own_scheduled(session, request, token)
        raw = (await read_params(request)).get("scheduled_at")
        if not raw:
            raise validation_error(MISSING_TIME)
        # The same content at a new time: the post service checks and records it like any edit.
        draft = Draft(actor=post.actor.name, text=post.text, spoiler_text=post.spoiler_text, language=post.language,
                      media_ids=tuple(m.id for m in post.media), scheduled_at=read_scheduled_at(raw, now), via="api")
        result = await edit_post(session, config, token.user, post, draft, now)
        if not result.ok:
            await session.commit()
            if result.reason is PostReason.ACTOR_NOT_ALLOWED:
                raise api_error(403, result.description)
            raise refused(list(result.refusals)) if result.refusals else api_error(422, result.description)
        await session.commit()
    return web.json_response(post_to_scheduled_status(post, Uris.for_base(config.instance.base_url)), headers=PRIVATE)


async def remove_scheduled(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        token = await authorize(request, session)
        post = await _own_scheduled(session, request, token)
        result = await delete_post(session, token.user, post)
        if not result.ok:
            raise api_error(403 if result.reason is PostReason.ACTOR_NOT_ALLOWED else 422, result.description)
        await session.commit()
    return web.json_response({}, headers=PRIVATE)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/scheduled_statuses", list_scheduled)
    app.router.add_get(r"/api/v1/scheduled_statuses/{id}", show_scheduled)
    app.router.add_put(r"/api/v1/scheduled_statuses/{id}", reschedule)
    app.router.add_delete(r"/api/v1/scheduled_statuses/{id}", remove_scheduled)
