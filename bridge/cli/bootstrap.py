"""Start-up on any database: run pending migrations, create missing actors (with keys) and, on an
empty database, the first admin. A later start changes nothing but pending migrations and new actors."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from activitypub.keys import generate_keypair
from activitypub.uris import INSTANCE_ACTOR_NAME
from bridge.store import schema
from bridge.config.model import Config
from bridge.store.models import Actor, Role, User
from bridge.auth.users import create_user
from consent.audit import Action, Event, record

ADMIN_NAME = "admin"


@dataclass(frozen=True)
class Bootstrap:
    migrations: list[str] = field(default_factory=list)
    actors_created: list[str] = field(default_factory=list)
    admin_password: str | None = None  # set only on the very first start, shown once


async def bootstrap(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], config: Config) -> Bootstrap:
    config.instance.data_dir.mkdir(parents=True, exist_ok=True)
    applied = await schema.upgrade(engine)
    async with sessions.begin() as session:
        created = await ensure_actors(session, config)
        password = None
        if not await session.scalar(select(func.count()).select_from(User)):
            _, password = await create_user(session, ADMIN_NAME, Role.ADMIN, [])
    return Bootstrap(applied, created, password)


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
    return created
