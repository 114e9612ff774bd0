"""Platform credentials entered in the browser: sealed with Fernet under a key kept in a file of the data dir
(0600), outside the database, so that a database dump alone opens none of them. Never logged, never shown
again: the admin pages only ever learn which fields a connection has."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from bridge.runtime.secrets import CREDENTIALS_KEY_FILE as KEY_FILE, PRIVATE_FILE_MODE, make_private_dir


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def load_or_create_key(data_dir: Path) -> bytes:
    path = key_path(data_dir)
    if path.exists():
        return path.read_bytes().strip()
    make_private_dir(data_dir)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:  # another process was quicker
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def seal(key: bytes, values: dict) -> bytes:
    return Fernet(key).encrypt(json.dumps(values).encode())


def unseal(key: bytes, token: bytes) -> dict | None:
    """None when the token was sealed under another key (a lost key file): the connection must be made again."""
    try:
        return json.loads(Fernet(key).decrypt(token))
    except (InvalidToken, ValueError):
        return None
