"""What each `stadtbote` verb does. Every handler returns an exit code or raises `CommandError`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

from aiohttp import web
from aiohttp.log import access_logger
from sqlalchemy import select

from activitypub.uris import INSTANCE_ACTOR_NAME, Uris
from bridge.cli import eventloop, heap
from bridge.publishing import posts
from bridge.auth import tokens, totp, users
from bridge.app import create_app
from bridge.cli.bootstrap import bootstrap
from bridge.cli.errors import CommandError
from bridge.config.model import Config
from bridge.convert.videos import ffmpeg_missing
from bridge.store.db import create_engine, create_sessionmaker
from bridge.runtime.accounts import refresh as refresh_accounts
from bridge.runtime.federation import instance_key, open_federation
from bridge.runtime.secrets import load_or_create_secret
from bridge.runtime.media_storage import media_storage
from bridge.store.models import User
from bridge.publishing.uploads import upload_image
from bridge.web.middleware import PrivateAccessLogger
from bridge.web.operations.metrics import worker_app as worker_metrics_app
from bridge.handlers import standard_worker
from bridge.operations.backup import make_backup
from bridge.operations.keys import rotate_key
from bridge.operations.restore import restore_backup
from bridge.operations.schema_check import SchemaState, check_schema
from bridge.queue.context import WorkerContext


async def _boot(config: Config) -> None:
    engine = create_engine(config.database.url)
    try:
        result = await bootstrap(engine, create_sessionmaker(engine), config)
    finally:
        await engine.dispose()
    for name in result.migrations:
        print(f"Applied migration {name}", file=sys.stderr)
    for name in result.actors_created:
        print(f"Created account @{name} with a new RSA-2048 key", file=sys.stderr)
    if result.admin_password:
        # Printed once, on stdout, so scripts can capture it; it is never stored in clear.
        print(f"Initial admin password: {result.admin_password}", flush=True)


def _stop_on_signal() -> asyncio.Event:
    """Installed before the process says it is ready, so an early SIGTERM still shuts down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _refuse_unusable_storage(config: Config) -> None:
    """A wrong S3 credential or an unreachable endpoint stops the start, not the first upload."""
    check = await media_storage(config).check()
    if not check.ok:
        raise CommandError(f"[media]: {check.description}")


def _refuse_video_without_ffmpeg(config: Config) -> None:
    if config.limits.video and (message := ffmpeg_missing()):
        raise CommandError(message)


async def serve(args: argparse.Namespace, config: Config) -> int:
    stop = _stop_on_signal()
    await _refuse_pending_migrations(config)
    await _refuse_unusable_storage(config)
    _refuse_video_without_ffmpeg(config)
    await _boot(config)
    runner = web.AppRunner(create_app(config, run_worker=not args.no_worker),
                           access_log_class=PrivateAccessLogger,
                           access_log_format=config.privacy.access_log_addresses,
                           access_log=access_logger if config.logging.access_log else None)
    await runner.setup()
    site = web.TCPSite(runner, config.instance.listen_host, config.instance.listen_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise CommandError(f"cannot listen on {config.instance.listen_host}:{config.instance.listen_port} "
                           f"({exc.strerror or exc.__class__.__name__})") from None
    heap.settle()
    print(f"Stadtbote is listening on {config.instance.listen_host}:{config.instance.listen_port}; "
          f"public URL {config.instance.base_url}; event loop {eventloop.running_loop_name()}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0


async def worker(args: argparse.Namespace, config: Config) -> int:
    stop = _stop_on_signal()
    await _refuse_pending_migrations(config)
    await _refuse_unusable_storage(config)
    await _boot(config)
    metrics_runner = await _worker_metrics(config)  # before anything else is opened: a busy port ends here
    engine = create_engine(config.database.url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        pem = await instance_key(session)
    federation = await open_federation(config, load_or_create_secret(config.instance.data_dir), pem,
                                       sessions=sessions)
    # Running, the standard worker starts the periodic chains (retention, checkpoints, credential check, feed polls).
    task = asyncio.create_task(standard_worker(WorkerContext(config, sessions, federation)).run_forever())
    heap.settle()
    print("Stadtbote worker is running", flush=True)
    try:
        await stop.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        await federation.close()
        await engine.dispose()
    return 0


async def _worker_metrics(config: Config) -> web.AppRunner | None:
    """`[metrics] worker_listen`: the worker's own counters for Prometheus."""
    if config.metrics.worker_listen is None:
        return None
    host, port = config.metrics.worker_listen
    runner = web.AppRunner(worker_metrics_app(config), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise CommandError(f"[metrics] worker_listen: cannot listen on {host}:{port} "
                           f"({exc.strerror or exc.__class__.__name__})") from None
    return runner


async def db_upgrade(args: argparse.Namespace, config: Config) -> int:
    await _boot(config)
    print("Database schema is up to date")
    return 0


async def _refuse_pending_migrations(config: Config) -> None:
    """`[database] migrate_on_start = false`: the operator migrates on purpose, so a start never does."""
    if config.database.migrate_on_start:
        return
    status = await check_schema(config)
    if not status.current:
        raise CommandError(f"{status.description}; run `stadtbote db upgrade`")


async def db_check(args: argparse.Namespace, config: Config) -> int:
    status = await check_schema(config)
    if not status.current:
        hint = "" if status.state is SchemaState.NEWER else "; run `stadtbote db upgrade`"
        raise CommandError(f"{status.description}{hint}")
    print(status.description[0].upper() + status.description[1:])
    return 0


async def backup(args: argparse.Namespace, config: Config) -> int:
    started = time.monotonic()
    result = await make_backup(config, Path(args.out))
    if not result.ok:
        raise CommandError(result.description)
    manifest = result.manifest
    size = Path(args.out).stat().st_size
    print(f"Wrote {args.out}: {len(manifest['members'])} members, {size / 1e6:.1f} MB, {manifest['database']['kind']} "
          f"schema {manifest['database']['schema']}, in {time.monotonic() - started:.1f} s. It holds private keys "
          "and personal data: keep it encrypted and access-controlled")
    return 0


async def restore(args: argparse.Namespace, config: Config) -> int:
    started = time.monotonic()
    result = await restore_backup(config, Path(args.file), args.force)
    if not result.ok:
        raise CommandError(result.description)
    manifest = result.manifest
    if manifest.get("base_url") != config.instance.base_url:
        print(f"Note: the backup was made at {manifest.get('base_url')}, this config says "
              f"{config.instance.base_url}; followers know the accounts by the old address", file=sys.stderr)
    for name in result.migrations:
        print(f"Applied migration {name}", file=sys.stderr)
    print(f"Restored {args.file} (made {manifest['created_at']} by Stadtbote {manifest['stadtbote_version']}): "
          f"the database and {result.files} files, in {time.monotonic() - started:.1f} s")
    return 0


async def keys_rotate(args: argparse.Namespace, config: Config) -> int:
    status = await check_schema(config)  # the key columns are where this version expects them
    if not status.current:
        raise CommandError(f"{status.description}; run `stadtbote db upgrade` first")
    async with _Db(config) as session:
        rotation = await rotate_key(session, config, args.actor)
        if not rotation.ok:
            raise CommandError(f"cannot rotate the key of {args.actor!r}: {rotation.reason.description}")
    told = ("running processes sign their next fetch with it" if args.actor == INSTANCE_ACTOR_NAME
            else "the Update goes to its followers' servers when the worker runs")
    print(f"Rotated the key of @{args.actor}: {rotation.old_fingerprint} -> {rotation.new_fingerprint}; {told}")
    return 0


class _Db:
    """A session for one CLI command, committed only if the command succeeds."""

    def __init__(self, config: Config):
        self.config = config
        self.engine = create_engine(config.database.url)
        self.sessions = create_sessionmaker(self.engine)

    async def __aenter__(self):
        self.ctx = self.sessions.begin()
        session = await self.ctx.__aenter__()
        await refresh_accounts(session, self.config)  # accounts made in the browser, not only the file's
        return session

    async def __aexit__(self, *exc):
        try:
            return await self.ctx.__aexit__(*exc)
        finally:
            await self.engine.dispose()


async def _user(session, name: str) -> User:
    user = await users.find_user(session, name)
    if user is None:
        raise CommandError(f"no user named {name!r}")
    return user


async def user_add(args: argparse.Namespace, config: Config) -> int:
    async with _Db(config) as session:
        try:
            user, password = await users.create_user(session, args.name, args.role, args.actor)
        except users.UserProblem as exc:
            raise CommandError(str(exc)) from None
    print(f"Created {args.role} {user.name}; one-time password (must be changed at first sign-in):")
    print(password)
    return 0


async def user_list(args: argparse.Namespace, config: Config) -> int:
    async with _Db(config) as session:
        rows = (await session.scalars(select(User).order_by(User.name))).all()
        for u in rows:
            state = "disabled" if u.disabled else "active"
            actors = ",".join(a.name for a in u.actors) or "-"
            print(f"{u.name}\t{u.role}\t{state}\t{actors}")
    return 0


async def user_disable(args: argparse.Namespace, config: Config) -> int:
    async with _Db(config) as session:
        await users.disable_user(session, await _user(session, args.name), None)
    print(f"Disabled {args.name}; their sessions have ended")
    return 0


async def user_reset_password(args: argparse.Namespace, config: Config) -> int:
    async with _Db(config) as session:
        password = await users.reset_password(session, await _user(session, args.name), None)
    print(f"New one-time password for {args.name}:")
    print(password)
    return 0


async def user_reset_second_factor(args: argparse.Namespace, config: Config) -> int:
    """For the last admin who lost both phone and recovery codes: nobody is left to do it in the browser."""
    async with _Db(config) as session:
        await totp.reset_second_factor(session, await _user(session, args.name), None)
    print(f"Second factor of {args.name} removed; they set it up again at the next sign-in if their role requires it")
    return 0


async def token_create(args: argparse.Namespace, config: Config) -> int:
    async with _Db(config) as session:
        result = await tokens.create_token(session, args.user, args.actor, args.label)
        if not result.ok:
            raise CommandError(result.description)
    print(f"Token {result.token.id} for {args.user} posting as @{args.actor} (shown only now):")
    print(result.secret)
    return 0


async def token_list(args: argparse.Namespace, config: Config) -> int:
    async with _Db(config) as session:
        for t in await tokens.list_tokens(session):
            state = "revoked" if t.revoked_at else "active"
            print(f"{t.id}\t{t.user.name}\t{t.actor.name}\t{state}\t{t.label}")
    return 0


async def token_revoke(args: argparse.Namespace, config: Config) -> int:
    async with _Db(config) as session:
        result = await tokens.revoke_token(session, args.id)
        if not result.ok:
            raise CommandError(f"no token with id {args.id}")
    print(f"Revoked token {args.id}")
    return 0


def _schedule(value: str | None, config: Config) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--at: not an ISO-8601 time: {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=config.tz)


def _read_text(value: str) -> str:
    return sys.stdin.read() if value == "-" else value


async def post(args: argparse.Namespace, config: Config) -> int:
    if len(args.alt) != len(args.image):
        raise CommandError("give one --alt for every --image (alt text is required)")
    images = []
    for path in args.image:
        try:
            images.append(Path(path).read_bytes())
        except OSError as exc:
            raise CommandError(f"--image {path}: {exc.strerror or 'cannot read'}") from None
    mirrors = tuple(m.strip() for m in args.mirror.split(",") if m.strip())
    async with _Db(config) as session:
        author = await _user(session, args.user)
        media_ids = []
        for index, (raw, alt) in enumerate(zip(images, args.alt)):
            uploaded = await upload_image(session, config, author, args.actor, raw, alt)
            if not uploaded.ok:
                raise CommandError(f"--image {args.image[index]}: {uploaded.description}")
            media_ids.append(uploaded.media.id)
        draft = posts.Draft(actor=args.actor, text=_read_text(args.text), spoiler_text=args.cw,
                            language=args.language, media_ids=tuple(media_ids),
                            scheduled_at=_schedule(args.at, config), mirrors=mirrors, via="cli")
        result = await posts.create_post(session, config, author, draft)
        if result.reason is posts.PostReason.UNKNOWN_ACTOR:
            known = ", ".join(sorted(a.name for a in config.actors)) or "none"
            raise CommandError(f"--actor {args.actor}: {result.description} (accounts: {known})")
        if not result.ok:
            raise CommandError(result.description)
    print(f"State: {result.post.state}")
    print(Uris.for_base(config.instance.base_url).permalink(args.actor, str(result.post.id)))
    return 0

