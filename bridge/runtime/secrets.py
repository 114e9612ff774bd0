"""The instance secret: kept in a file under data_dir, outside the database, so a database dump alone
cannot forge CSRF tokens or reverse client pseudonyms. And the rule for everything private on disk: the
data dir 0700, the database, keys and secrets 0600, whatever the umask."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from bridge.config.model import Config
from bridge.store.db import sqlite_path
from consent.auditsigning import KEY_FILE

SECRET_FILE = "instance.secret"
CREDENTIALS_KEY_FILE = "platform-credentials.key"  # seals platform credentials entered in the browser
PRIVATE_DIR_MODE, PRIVATE_FILE_MODE = 0o700, 0o600
OTHERS = 0o077  # any permission for the group or other users


def load_or_create_secret(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    make_private_dir(data_dir)
    value = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w") as fh:
        fh.write(value.hex())
    return value


def make_private_dir(path: Path) -> None:
    """Creates the data dir readable by this user only; an existing one is left as it is (see `loose_modes`)."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)


def private_paths(config: Config) -> list[Path]:
    """What only the server's user may read: the data dir, the SQLite database (every account's private key)
    with its journal files, the instance secret, the audit signing key and the platform credentials' key."""
    data_dir = config.instance.data_dir
    paths = [data_dir, data_dir / SECRET_FILE, data_dir / KEY_FILE, data_dir / CREDENTIALS_KEY_FILE]
    database = sqlite_path(config.database.url)
    if database is not None:
        paths += [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]
    return paths


def loose_modes(paths: list[Path]) -> list[tuple[Path, int]]:
    """Those of `paths` that exist and that the group or other users may read, write or enter, with the mode."""
    found = []
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & OTHERS:
            found.append((path, mode))
    return found


def keyed_hash(secret: bytes, purpose: str, value: str, length: int = 32) -> str:
    """Domain-separated HMAC, e.g. for throttling clients without keeping their addresses."""
    return hmac.new(secret, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()[:length]
