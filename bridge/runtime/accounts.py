"""The accounts and browser-connected platforms of `Config.accounts`, read from the database.

Every request and every job first asks one cheap question — the number of accounts and connections and the
sum of their versions — and reloads only when the answer moved, so an account created in one process answers
WebFinger in every other at its next request, without a restart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import INSTANCE_ACTOR_NAME
from bridge.config.model import ActorConfig, Config, PlatformConfig
from bridge.runtime.credentials import load_or_create_key, unseal
from bridge.store.models import Actor
from bridge.store.platforms import PlatformConnection

# What the profile column holds: ActorConfig's fields but the name (the row's) and retirement (its own column).
PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(ActorConfig) if f.name not in ("name", "retired"))
TUPLES = {"fields", "import_mirrors"}
# Set on a profile copied from the file: such an account follows the file at each start until it is first
# changed in the browser; from then on the database alone decides.
FROM_FILE = "from_file"


def profile_of(account: ActorConfig, *, from_file: bool = False) -> dict:
    """The profile column of an account: JSON-safe (tuples become lists, the avatar path a string)."""
    profile: dict = {FROM_FILE: True} if from_file else {}
    for name in PROFILE_FIELDS:
        value = getattr(account, name)
        if name in TUPLES:
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        elif isinstance(value, Path):
            value = str(value)
        profile[name] = value
    return profile


async def adopt_file_accounts(session: AsyncSession, config: Config) -> list[str]:
    """Copies the file's [[actors]] into rows that have no profile yet or still follow the file; returns the
    names changed. Rows are created (with their keys) by the first start, `bridge.cli.bootstrap`."""
    rows = {r.name: r for r in (await session.scalars(select(Actor))).all()}
    changed = []
    for account in config.file_actors:
        row = rows.get(account.name)
        if row is None or not (row.profile is None or row.profile.get(FROM_FILE)):
            continue
        profile = profile_of(account, from_file=True)
        if row.profile != profile:
            row.profile, row.profile_version = profile, (row.profile_version or 0) + 1
            changed.append(account.name)
    await session.flush()
    return changed


def account_of(row: Actor) -> ActorConfig:
    profile = dict(row.profile or {})
    values = {k: profile[k] for k in PROFILE_FIELDS if k in profile}
    values["avatar"] = Path(values["avatar"]) if values.get("avatar") else None
    values["fields"] = tuple(tuple(f) for f in values.get("fields", ()))
    values["import_mirrors"] = tuple(values.get("import_mirrors", ()))
    values.setdefault("display_name", row.name)
    values.setdefault("summary", "")
    values.setdefault("type", "Organization")
    values.setdefault("require_approval", False)
    values.setdefault("website", None)
    return ActorConfig(name=row.name, retired=row.retired_at is not None, **values)


def platform_of(row: PlatformConnection, key: bytes) -> PlatformConfig | None:
    credentials = unseal(key, row.sealed_credentials)
    if credentials is None:
        return None
    return PlatformConfig(row.id, row.kind, row.api_base, row.recipient, row.country, row.transfer_mechanism,
                          credentials)


async def refresh(session: AsyncSession, config: Config) -> bool:
    """Reloads `config.accounts` when the database changed since the last look; True when it reloaded."""
    actors = (await session.execute(select(func.count(), func.coalesce(func.sum(Actor.profile_version), 0))
                                    .where(Actor.profile.is_not(None)))).one()
    platforms = (await session.execute(select(func.count(), func.coalesce(func.sum(PlatformConnection.version), 0))
                                       )).one()
    version = (int(actors[0]), int(actors[1]), int(platforms[0]), int(platforms[1]))
    if version == config.accounts.version:
        return False
    rows = (await session.scalars(select(Actor).where(Actor.profile.is_not(None), Actor.name != INSTANCE_ACTOR_NAME)
                                  .order_by(Actor.id))).all()
    connections = (await session.scalars(select(PlatformConnection).order_by(PlatformConnection.id))).all()
    key = load_or_create_key(config.instance.data_dir) if connections else b""
    filed = {p.id for p in config.file_platforms}
    found = [platform_of(c, key) for c in connections if c.id not in filed]
    config.accounts.replace(version, [account_of(r) for r in rows], [p for p in found if p is not None])
    return True
