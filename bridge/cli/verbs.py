"""The verbs of `stadtbote`: their arguments and one-line help, and where each one's handler lives.

Handlers are imported only when their verb runs (a table of "module:function"), so `stadtbote --help` and a
mistyped verb answer without loading the web application, SQLAlchemy or the connectors."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Awaitable, Callable
from typing import Any

_COMMANDS, _PRIVACY, _WARNINGS = "bridge.cli.commands", "bridge.cli.privacy", "bridge.cli.warnings"
HANDLERS = {
    "serve": f"{_COMMANDS}:serve", "worker": f"{_COMMANDS}:worker",
    "db upgrade": f"{_COMMANDS}:db_upgrade", "db check": f"{_COMMANDS}:db_check",
    "backup": f"{_COMMANDS}:backup", "restore": f"{_COMMANDS}:restore", "keys rotate": f"{_COMMANDS}:keys_rotate",
    "user add": f"{_COMMANDS}:user_add", "user list": f"{_COMMANDS}:user_list",
    "user disable": f"{_COMMANDS}:user_disable", "user reset-password": f"{_COMMANDS}:user_reset_password",
    "user reset-second-factor": f"{_COMMANDS}:user_reset_second_factor", "post": f"{_COMMANDS}:post",
    "token create": f"{_COMMANDS}:token_create", "token list": f"{_COMMANDS}:token_list",
    "token revoke": f"{_COMMANDS}:token_revoke",
    "audit pubkey": f"{_PRIVACY}:audit_pubkey", "audit export": f"{_PRIVACY}:audit_export",
    "audit verify": f"{_PRIVACY}:audit_verify", "audit checkpoint": f"{_PRIVACY}:audit_checkpoint",
    "subject export": f"{_PRIVACY}:subject_export", "subject erase": f"{_PRIVACY}:subject_erase",
    "subject object": f"{_PRIVACY}:subject_object", "retention run": f"{_PRIVACY}:retention_run",
    "register": f"{_PRIVACY}:register",
    "warnings poll": f"{_WARNINGS}:warnings_poll",
}
GROUPS = ("db", "user", "token", "audit", "subject", "retention", "keys", "warnings")


def verb_of(args: argparse.Namespace) -> str:
    return args.verb if args.verb not in GROUPS else f"{args.verb} {args.action}"


def handler_for(verb: str) -> Callable[[argparse.Namespace, Any], Awaitable[int]]:
    """The verb's handler, its module imported now."""
    module, function = HANDLERS[verb].split(":")
    return getattr(importlib.import_module(module), function)


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
                       ("reset-password", "set a new one-time password"),
                       ("reset-second-factor", "remove a user's second factor (a lost phone)")):
        _verb(user, name, text).add_argument("name")
    _post_verb(verbs)
    token = _group(verbs, "token", "API tokens")
    create = _verb(token, "create", "create a token; prints it as the last line")
    create.add_argument("--user", required=True)
    create.add_argument("--actor", required=True)
    create.add_argument("--label", default="")
    _verb(token, "list", "list tokens")
    _verb(token, "revoke", "revoke a token").add_argument("id", type=int)
    _privacy_verbs(verbs)
    _warnings_verbs(verbs)
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


def _privacy_verbs(verbs) -> None:
    audit = _group(verbs, "audit", "the tamper-evident audit log")
    _verb(audit, "pubkey", "print the checkpoint public key (PEM)")
    export = _verb(audit, "export", "write entries, checkpoints and proofs for the offline verifier")
    export.add_argument("--out", required=True, metavar="FILE")
    export.add_argument("--since", type=int, default=0, metavar="SEQ",
                        help="start at this entry (rounded down to a checkpoint)")
    check = _verb(audit, "verify", "verify an export offline against the pinned public key")
    check.add_argument("file", metavar="FILE")
    check.add_argument("--key", required=True, metavar="PUBKEY", help="PEM file from `audit pubkey`, or a vkey")
    check.add_argument("--origin", help="pin the log origin too (default: the export's)")
    check.set_defaults(offline=True)
    _verb(audit, "checkpoint", "sign a checkpoint over the log now")
    subject = _group(verbs, "subject", "rights of data subjects (GDPR Art. 15, 17, 21)")
    for name, text in (("export", "everything stored about a person, as JSON (Art. 15)"),
                       ("erase", "erase a person and print the inclusion proof of the erasure (Art. 17)"),
                       ("object", "record a person's objection and stop processing (Art. 21)")):
        parser = _verb(subject, name, text)
        parser.add_argument("identifier", metavar="PERSON", help="actor URI, @user@host or platform id")
        if name != "object":
            parser.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    retention = _group(verbs, "retention", "storage limitation")
    _verb(retention, "run", "delete everything due under [retention] now")
    register = _verb(verbs, "register", "render the record of processing activities (Art. 30)")
    register.add_argument("--format", choices=["markdown", "html", "json"], default="markdown")


def _warnings_verbs(verbs) -> None:
    warnings = _group(verbs, "warnings", "official warnings (NINA, DWD, CAP, PEGELONLINE)")
    poll = _verb(warnings, "poll", "poll every warnings source once and print what it did")
    poll.add_argument("--source", metavar="ID", help="only this source (its id in [[warnings]])")
