"""The migrations build exactly the schema the models declare: no table, column, index or type that one
has and the other lacks (a drift would surface as a failed query in production, not in a test)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bridge.store import models, blocks as models_blocks, feeds as models_feeds, platforms as models_platforms  # noqa: F401  (register tables)
from bridge.store import dialogue as models_dialogue  # noqa: F401  (register tables)
from bridge.store import events as models_events, polls as models_polls, reach as models_reach  # noqa: F401,E501  (register tables)
from bridge.store.db import Base, create_engine
from consent import ledger, models_privacy  # noqa: F401  (register tables)
from consent.models import ConsentBase


def _differences(sync_conn) -> list:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return compare_metadata(context, [Base.metadata, ConsentBase.metadata])


async def test_migrated_schema_matches_the_models(config, booted):
    engine = create_engine(config.database.url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []


async def test_the_claim_index_covers_its_whole_order(config, booted):
    """Jobs are claimed ORDER BY priority, run_at, id: the index must hold all three, or PostgreSQL sorts the
    queue."""
    engine = create_engine(config.database.url)
    try:
        async with engine.connect() as conn:
            indexes = await conn.run_sync(lambda c: inspect(c).get_indexes("job"))
    finally:
        await engine.dispose()
    assert {"name": "ix_job_due", "columns": ["state", "priority", "run_at", "id"]} in [
        {"name": i["name"], "columns": i["column_names"]} for i in indexes]
