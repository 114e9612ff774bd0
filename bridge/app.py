"""`create_app`: the only place where the application is wired together."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractResolver

from bridge.web.activitypub import inbox
from bridge.appkeys import ACCOUNTS_SEEN, CONFIG, ENGINE, FEDERATION, SECRET, SESSIONS, TEMPLATES
from bridge.config.model import Config
from bridge.store.db import create_engine, create_sessionmaker
from bridge.store.versions import VersionBoard
from bridge.runtime.accounts import adopt_file_accounts
from bridge.runtime.federation import instance_key, open_federation
from bridge.web.i18n import Catalogues
from bridge.runtime.secrets import load_or_create_secret
from bridge.web.activitypub import documents as activitypub_views
from bridge.web.admin import accounts as admin_accounts, users as admin
from bridge.web.api import routes as api
from bridge.web.oauth import routes as oauth
from bridge.web import auth
from bridge.web.public import avatars, calendar, consent_withdraw, counting, media, pages as public, shortcut
from bridge.web.dpo import audit as dpo
from bridge.web.editor import dashboard as editor, mirrors
from bridge.web.moderation import replies as moderation
from bridge.web.clients import client_origin
from bridge.web.form_reader import TEXT_CAP
from bridge.web.middleware import csrf, current_accounts, errors, measure, security_headers, signed_in_user
from bridge.web.operations import health, metrics
from bridge.web.render import create_templates
from bridge.web.readcache import READ_CACHE, ReadCache
from bridge.queue.worker import Worker, WorkerContext
from bridge.handlers import standard_worker

STATIC_DIR = Path(__file__).parent / "static"
# Four images at the configured size plus the form fields (the API's uploads and strangers' forms; editors'
# forms are read part by part, see `form_reader`); inboxes cap their own bodies far lower.
FORM_OVERHEAD = TEXT_CAP
# The worker of a `serve` process; kept here, not in appkeys, so the web handlers never import the queue.
# Running, it starts the periodic job chains (`bridge.handlers.start_chains`), as `stadtbote worker` does.
WORKER = web.AppKey("worker", Worker)


def create_app(config: Config, *, run_worker: bool = True, resolver: AbstractResolver | None = None,
               public_overrides: tuple[str, ...] = ()) -> web.Application:
    """`resolver` and `public_overrides` let tests reach fake remote servers on loopback by name."""
    app = web.Application(
        middlewares=[shortcut.cached_reads, client_origin, measure, security_headers, errors, current_accounts,
                     signed_in_user, csrf, counting.count_readers],
        client_max_size=config.limits.upload_body_bytes + FORM_OVERHEAD,
    )
    app[CONFIG] = config
    app[SECRET] = load_or_create_secret(config.instance.data_dir)
    app[TEMPLATES] = create_templates(Catalogues())
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(functools.partial(_federation, resolver=resolver, public_overrides=public_overrides))
    app.cleanup_ctx.append(counting.flush_loop)  # after the database: its last flush runs before disposal
    if run_worker:
        app.cleanup_ctx.append(_worker)
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=False)
    media.setup(app)
    public.setup(app)
    calendar.setup(app)
    auth.setup(app)
    editor.setup(app)
    admin.setup(app)
    admin_accounts.setup(app)
    api.setup(app)
    oauth.setup(app)
    activitypub_views.setup(app)
    avatars.setup(app)
    mirrors.setup(app)
    dpo.setup(app)
    moderation.setup(app)
    consent_withdraw.setup(app)
    app[public.NOTE_RESPONDER] = activitypub_views.note_response  # permalinks also serve the Note
    inbox.setup(app)
    health.setup(app)
    metrics.setup(app)
    return app


async def _database(app: web.Application):
    engine = create_engine(app[CONFIG].database.url)
    app[ENGINE] = engine
    app[SESSIONS] = create_sessionmaker(engine)
    async with app[SESSIONS].begin() as session:
        await adopt_file_accounts(session, app[CONFIG])
    cache = app[CONFIG].cache
    app[READ_CACHE] = ReadCache(VersionBoard(engine, cache.recheck_ms / 1000), cache.memory_mb * 2**20)
    app[ACCOUNTS_SEEN] = {}
    yield
    await engine.dispose()


async def _federation(app: web.Application, *, resolver, public_overrides):
    async with app[SESSIONS]() as session:
        pem = await instance_key(session)
    federation = await open_federation(app[CONFIG], app[SECRET], pem, resolver=resolver,
                                       public_overrides=public_overrides, sessions=app[SESSIONS])
    app[FEDERATION] = federation
    app[WORKER] = standard_worker(WorkerContext(app[CONFIG], app[SESSIONS], federation))
    yield
    await federation.close()


async def _worker(app: web.Application):
    task = asyncio.create_task(app[WORKER].run_forever(), name="stadtbote-worker")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
