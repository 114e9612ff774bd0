"""The `stadtbote` command. Every verb takes `--config PATH`; errors are one line and a non-zero exit."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from bridge.cli import eventloop
from bridge.cli.errors import CommandError
from bridge.cli.verbs import build_parser, handler_for, verb_of
from bridge.config.model import Config, ConfigError, LoggingConfig
from bridge.config.load import load_config
from bridge.runtime import logs

__all__ = ["build_parser", "config_path", "dispatch", "main"]

EXIT_ERROR, EXIT_CONFIG = 1, 2


def config_path(given: str | None) -> Path:
    if given:
        return Path(given)
    if Path("config.toml").exists():
        return Path("config.toml")
    if os.environ.get("STADTBOTE_CONFIG"):
        return Path(os.environ["STADTBOTE_CONFIG"])
    return Path("config.toml")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # After parsing: `--help` and a mistyped verb answer without loading SQLAlchemy.
    database_error = importlib.import_module("sqlalchemy.exc").SQLAlchemyError
    logs.configure(LoggingConfig(), _quieter(args, LoggingConfig()))
    try:
        # `audit verify` runs offline, on the DPO's own machine: no config, no database.
        config = None if getattr(args, "offline", False) else load_config(config_path(args.config))
        if config is not None:
            logs.configure(config.logging, _quieter(args, config.logging))
        return eventloop.run(dispatch(args, config)) or 0
    except ConfigError as exc:
        print(f"stadtbote: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CommandError as exc:
        print(f"stadtbote: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (database_error, OSError) as exc:
        print(f"stadtbote: cannot reach the database or files ({exc.__class__.__name__}); "
              "check [database] url and data_dir", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _quieter(args: argparse.Namespace, settings: LoggingConfig) -> str | None:
    """Verbs other than `serve` and `worker` log warnings and errors only (their output is their answer)."""
    if args.verb in ("serve", "worker") or settings.level == "error":
        return None
    return "warning"


async def dispatch(args: argparse.Namespace, config: Config) -> int:
    return await handler_for(verb_of(args))(args, config)


if __name__ == "__main__":
    sys.exit(main())
