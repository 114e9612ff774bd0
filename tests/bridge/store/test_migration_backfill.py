"""Migrations that move data, run on a database holding data, as an operator's upgrade runs them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from bridge.store import migrator, schema
from bridge.store.db import create_engine, create_sessionmaker
from bridge.store.warnings import OfficialWarning, WarningPost
from support.public import editor, publish


def warning(number: int, post_ids: list[int]) -> OfficialWarning:
    return OfficialWarning(source_id="mowas", sender="BBK", identifier=f"mow.DE-{number}", state="active",
                           msg_type="Alert", severity="Severe", event="Hochwasser", headline=f"Warnung {number}",
                           sent=datetime(2026, 12, 1, 8, number, tzinfo=timezone.utc), fields={},
                           post_ids=post_ids)


async def migrate(engine, target: str, down: bool = False) -> None:
    from alembic import command

    def run(sync_conn):
        cfg = migrator.alembic_config(schema.MIGRATIONS)
        cfg.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(cfg, target)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def test_0025_fills_warning_post_from_the_warnings_lists(config, booted, test_password_hash):
    engine = create_engine(config.database.url)
    sessions = create_sessionmaker(engine)
    try:
        user = await editor(sessions, test_password_hash)
        first, second, third = [await publish(sessions, config, user, f"Hochwasser {n}") for n in range(3)]
        async with sessions.begin() as s:
            # as 0024 left them: lists only; one post named twice, one id whose post is gone
            s.add_all([warning(1, [first, second]), warning(2, [second, 999_999]), warning(3, [])])
        await migrate(engine, "0024", down=True)
        await migrate(engine, "head")
        assert await schema.current(engine) == schema.head()
        async with sessions() as s:
            ids = {w.identifier: w.id for w in (await s.scalars(select(OfficialWarning))).all()}
            rows = {(p, w) for p, w in (await s.execute(select(WarningPost.post_id, WarningPost.warning_id))).all()}
        # the newer warning keeps the post both name, as the old lookup by list did; the missing post is left out
        assert rows == {(first, ids["mow.DE-1"]), (second, ids["mow.DE-2"])}
        assert third not in {p for p, _ in rows}
    finally:
        await engine.dispose()
