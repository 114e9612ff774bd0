"""The `stadtbote` command. Every verb takes `--config PATH`; errors are one line and a non-zero exit."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bridge.cli import commands, privacy as commands_privacy, eventloop
from bridge.cli.errors import CommandError
from bridge.config.model import Config, ConfigError, LoggingConfig
from bridge.config.load import load_config
from bridge.runtime import logs

EXIT_ERROR, EXIT_CONFIG = 1, 2


def config_path(given: str | None) -> Path:
    if given:
        return Path(given)
    if Path("config.toml").exists():
        return Path("config.toml")
    if os.environ.get("STADTBOTE_CONFIG"):
        return Path(os.environ["STADTBOTE_CONFIG"])
    return Path("config.toml")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stadtbote", description="Stadtbote: the authority's own "
                                     "ActivityPub instance, feeds and bridge to commercial platforms.")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    serve = _verb(verbs, "serve", "run the web server (and the job worker unless --no-worker)")
    serve.add_argument("--no-worker", action="store_true", help="do not run the job worker in this process")
    _verb(verbs, "worker", "run the job worker alone (for scale-out)")
    db = _group(verbs, "db", "database schema")
    _verb(db, "upgrade", "run pending schema migrations")
    _verb(db, "check", "exit 0 when the schema is current, 1 when migrations are pending")
    _backup_verbs(verbs)
    user = _group(verbs, "user", "users of the editorial interface")
    add = _verb(user, "add", "add a user; prints a one-time password")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["admin", "editor", "dpo"])
    add.add_argument("--actor", action="append", default=[], help="account the editor may use (repeatable)")
    _verb(user, "list", "list users")
    for name, text in (("disable", "disable a user and end their sessions"),
                       ("reset-password", "set a new one-time password")):
        _verb(user, name, text).add_argument("name")
    _post_verb(verbs)
    token = _group(verbs, "token", "API tokens")
    create = _verb(token, "create", "create a token; prints it as the last line")
    create.add_argument("--user", required=True)
    create.add_argument("--actor", required=True)
    create.add_argument("--label", default="")
    _verb(token, "list", "list tokens")
    _verb(token, "revoke", "revoke a token").add_argument("id", type=int)
    commands_privacy.add_verbs(verbs, _verb, _group)
    keys = _group(verbs, "keys", "the accounts' signing keys")
    _verb(keys, "rotate", "give an account a new RSA-2048 key and tell its followers' servers").add_argument(
        "--actor", required=True, metavar="NAME",
        help="the account (as in [[actors]] name), or instance.actor for the key that signs fetches")
    return parser


def _verb(sub, name: str, text: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=text, description=text)
    parser.add_argument("--config", metavar="PATH", help="config file (default ./config.toml, "
                        "else $STADTBOTE_CONFIG)")
    return parser


def _group(sub, name: str, text: str):
    return sub.add_parser(name, help=text, description=text).add_subparsers(dest="action", metavar="ACTION",
                                                                           required=True)


def _backup_verbs(verbs) -> None:
    backup = _verb(verbs, "backup", "write an online backup (database, media, keys, secrets) to a new file; "
                   "it holds private keys and personal data")
    backup.add_argument("--out", required=True, metavar="FILE", help="the backup file to create (tar, 0600)")
    restore = _verb(verbs, "restore", "restore a backup into an empty data_dir and database, then migrate it")
    restore.add_argument("file", metavar="FILE")
    restore.add_argument("--force", action="store_true", help="replace a data_dir and database that are not empty")


def _post_verb(verbs) -> None:
    post = _verb(verbs, "post", "publish a post; prints its URL as the last line")
    post.add_argument("--actor", required=True)
    post.add_argument("--text", required=True, help="post text ('-' reads standard input)")
    post.add_argument("--cw", default="", help="content warning")
    post.add_argument("--language")
    post.add_argument("--image", action="append", default=[], metavar="FILE")
    post.add_argument("--alt", action="append", default=[], help="alt text, one per --image, in order")
    post.add_argument("--at", metavar="ISO-8601", help="publish later (time zone of the instance if none)")
    post.add_argument("--mirror", default="", metavar="ID[,ID…]", help="platform accounts to mirror to")
    post.add_argument("--user", default="admin", help="user recorded as the author (default admin)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
    except (SQLAlchemyError, OSError) as exc:
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
    grouped = ("db", "user", "token", "audit", "subject", "retention", "keys")
    verb = args.verb if args.verb not in grouped else f"{args.verb} {args.action}"
    handler = commands.HANDLERS[verb]
    return await handler(args, config)


if __name__ == "__main__":
    sys.exit(main())
