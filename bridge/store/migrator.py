"""Alembic's machinery, imported only when a migration runs (see bridge.store.schema)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig

from bridge.store.schema import MIGRATIONS


def alembic_config(url: str | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade_to_head(sync_conn) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")
