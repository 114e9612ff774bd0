"""Start-up on any database: run pending migrations, create missing actors (with keys) and, on an
empty database, the first admin. A later start changes nothing but pending migrations and new actors."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from activitypub.keys import generate_keypair
from activitypub.uris import INSTANCE_ACTOR_NAME
from bridge.store import schema
from bridge.store.db import create_database_file
from bridge.config.model import Config
from bridge.store.models import Actor, Role, User
from bridge.auth.users import create_user
from bridge.runtime.accounts import adopt_file_accounts
from bridge.runtime.secrets import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, loose_modes, make_private_dir, private_paths
from consent.audit import Action, Event, record

ADMIN_NAME = "admin"
log = logging.getLogger("stadtbote.files")


@dataclass(frozen=True)
class Bootstrap:
    migrations: list[str] = field(default_factory=list)
    actors_created: list[str] = field(default_factory=list)
    admin_password: str | None = None  # set only on the very first start, shown once


async def bootstrap(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], config: Config) -> Bootstrap:
    make_private_dir(config.instance.data_dir)
    create_database_file(config.database.url)  # the engine was made before the data dir existed
    warn_loose_files(config)
    applied = await schema.upgrade(engine)
    async with sessions.begin() as session:
        created = await ensure_actors(session, config)
        password = None
        if not await session.scalar(select(func.count()).select_from(User)):
            _, password = await create_user(session, ADMIN_NAME, Role.ADMIN, [])
    return Bootstrap(applied, created, password)


def warn_loose_files(config: Config) -> None:
    """One line per private file or folder that other local users may read (made before this version, or
    by hand); the path and its mode, never what it holds."""
    for path, mode in loose_modes(private_paths(config)):
        wanted = PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE
        log.warning("%s has mode %04o: other local users may read it; chmod %o %s", path, mode, wanted, path)


async def ensure_actors(session: AsyncSession, config: Config) -> list[str]:
    existing = set((await session.scalars(select(Actor.name))).all())
    created = []
    # The instance actor (FEP-2677) signs our GET requests; its name cannot clash with a configured one.
    for name in [INSTANCE_ACTOR_NAME] + [a.name for a in config.actors]:
        if name in existing:
            continue
        keys = generate_keypair()
        session.add(Actor(name=name, private_key_pem=keys.private_pem, public_key_pem=keys.public_pem))
        await session.flush()
        await record(session, Event(Action.ACTOR_CREATED, "system", "system", subject_ref=f"actor:{name}"))
        await record(session, Event(Action.KEY_CREATED, "system", "system", subject_ref=f"actor:{name}",
                                    details={"algorithm": "rsa-2048"}))
        created.append(name)
    await adopt_file_accounts(session, config)
    return created
