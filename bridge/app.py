"""`create_app`: the only place where the application is wired together."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractResolver
from sqlalchemy import select

from bridge import inbox
from bridge.appkeys import CONFIG, ENGINE, FEDERATION, SECRET, SESSIONS, TEMPLATES, USER, WORKER
from bridge.config import Config
from bridge.db import create_engine, create_sessionmaker
from bridge.federation import instance_key, open_federation
from bridge.i18n import Catalogues
from bridge.media import media_dir
from bridge.models import Actor, Media, Post, PostState
from bridge.posts import may_use_actor
from bridge.secrets_store import load_or_create_secret
from bridge.web import (activitypub_views, admin, api, auth, avatars, consent_withdraw, dpo, editor, mirrors,
                        moderation, public)
from bridge.web.form_reader import TEXT_CAP
from bridge.web.middleware import csrf, errors, security_headers, signed_in_user
from bridge.web.render import create_templates
from bridge.worker import Worker, WorkerContext

STATIC_DIR = Path(__file__).parent / "static"
# Four images at the configured size plus the form fields (the API's uploads and strangers' forms; editors'
# forms are read part by part, see `form_reader`); inboxes cap their own bodies far lower.
FORM_OVERHEAD = TEXT_CAP


def create_app(config: Config, *, run_worker: bool = True, resolver: AbstractResolver | None = None,
               public_overrides: tuple[str, ...] = ()) -> web.Application:
    """`resolver` and `public_overrides` let tests reach fake remote servers on loopback by name."""
    app = web.Application(
        middlewares=[security_headers, errors, signed_in_user, csrf],
        client_max_size=config.limits.max_images * config.limits.max_image_bytes + FORM_OVERHEAD,
    )
    app[CONFIG] = config
    app[SECRET] = load_or_create_secret(config.instance.data_dir)
    app[TEMPLATES] = create_templates(Catalogues())
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(functools.partial(_federation, resolver=resolver, public_overrides=public_overrides))
    if run_worker:
        app.cleanup_ctx.append(_worker)
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=False)
    app.router.add_get("/media/{filename}", serve_media, name="media")
    public.setup(app)
    auth.setup(app)
    editor.setup(app)
    admin.setup(app)
    api.setup(app)
    activitypub_views.setup(app)
    avatars.setup(app)
    mirrors.setup(app, schedule_jobs=run_worker)  # starts the daily platform credential check
    dpo.setup(app, schedule_jobs=run_worker)  # starts the retention and checkpoint jobs
    moderation.setup(app)
    consent_withdraw.setup(app)
    app[public.NOTE_RESPONDER] = activitypub_views.note_response  # permalinks also serve the Note
    inbox.setup(app)
    return app


async def _database(app: web.Application):
    engine = create_engine(app[CONFIG].database.url)
    app[ENGINE] = engine
    app[SESSIONS] = create_sessionmaker(engine)
    yield
    await engine.dispose()


async def _federation(app: web.Application, *, resolver, public_overrides):
    async with app[SESSIONS]() as session:
        pem = await instance_key(session)
    federation = await open_federation(app[CONFIG], app[SECRET], pem, resolver=resolver,
                                       public_overrides=public_overrides)
    app[FEDERATION] = federation
    app[WORKER] = Worker(WorkerContext(app[CONFIG], app[SESSIONS], federation))
    yield
    await federation.close()


async def _worker(app: web.Application):
    task = asyncio.create_task(app[WORKER].run_forever(), name="stadtbote-worker")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def serve_media(request: web.Request) -> web.StreamResponse:
    """Images of published posts are public; images of drafts only for editors of that account."""
    filename = request.match_info["filename"]
    async with request.app[SESSIONS]() as session:
        row = (await session.execute(
            select(Media, Actor.name).join(Actor, Actor.id == Media.actor_id).where(Media.filename == filename)
        )).first()
        if row is None:
            raise web.HTTPNotFound()
        media, actor_name = row
        post = await session.get(Post, media.post_id) if media.post_id else None
    public = post is not None and post.state == PostState.PUBLISHED
    user = request.get(USER)
    if not public and not (user is not None and may_use_actor(user, actor_name)):
        raise web.HTTPNotFound()
    path = media_dir(request.app[CONFIG].instance.data_dir) / filename
    if not path.is_file():
        raise web.HTTPNotFound()
    headers = {"Cache-Control": "public, max-age=31536000, immutable" if public else "private, no-store"}
    return web.FileResponse(path, headers=headers)
