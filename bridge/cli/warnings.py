"""`stadtbote warnings poll`: every `[[warnings]]` source polled once, one line per source saying what it did."""

from __future__ import annotations

import argparse

from bridge.cli.errors import CommandError
from bridge.config.model import Config
from bridge.store.db import create_engine, create_sessionmaker
from bridge.warnings.polls import poll_and_commit


async def warnings_poll(args: argparse.Namespace, config: Config) -> int:
    chosen = [s for s in config.warnings if args.source in (None, s.id)]
    if not chosen:
        raise CommandError(f"no warnings source {args.source!r} is configured" if args.source
                           else "no [[warnings]] source is configured")
    engine = create_engine(config.database.url)
    try:
        sessions = create_sessionmaker(engine)
        for source in chosen:
            async with sessions() as session:
                result = await poll_and_commit(config, session, source)
            print(f"{source.id}: {result.reason} — {result.summary or result.reason.description}", flush=True)
    finally:
        await engine.dispose()
    return 0

