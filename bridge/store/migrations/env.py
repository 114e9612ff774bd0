"""Alembic environment. `bridge.schema` passes an open connection; nothing here reads global config."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from bridge.store.db import Base
from bridge.store import models  # noqa: F401  (registers the bridge tables on Base.metadata)
from bridge.store import feeds as models_feeds  # noqa: F401  (hashtag index, feed import tables, listing indexes)
from bridge.store import platforms as models_platforms  # noqa: F401  (platform send state and platform accounts)
from bridge.store import blocks as models_blocks  # noqa: F401  (domain blocks)
from bridge.store import warnings as models_warnings  # noqa: F401  (official warnings lane)
from bridge.store import dialogue as models_dialogue  # noqa: F401  (dialogue desk: handling, answer templates)
from bridge.store import polls as models_polls  # noqa: F401  (polls and their votes)
from bridge.store import reach as models_reach  # noqa: F401  (page views and feed subscribers)
from bridge.store import events as models_events  # noqa: F401  (events of posts)
from consent.models import ConsentBase
from consent import models_privacy  # noqa: F401  (audit head and checkpoints, rights requests, security log)
from consent import ledger  # noqa: F401  (consent texts, requests and receipts)

target_metadata = [Base.metadata, ConsentBase.metadata]


def run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(run_with)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_async(context.config.get_main_option("sqlalchemy.url")))
