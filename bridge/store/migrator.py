"""Alembic's machinery, imported only when a migration runs (see bridge.store.schema)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig


def alembic_config(migrations: Path, url: str | None = None) -> AlembicConfig:
    """`migrations` is `bridge.store.schema.MIGRATIONS` (named there, so this module needs nothing of it)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade_to_head(sync_conn, migrations: Path) -> None:
    cfg = alembic_config(migrations)
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")
