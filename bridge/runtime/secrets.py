"""The instance secret: kept in a file under data_dir, outside the database, so a database dump alone
cannot forge CSRF tokens or reverse client pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "instance.secret"


def load_or_create_secret(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value.hex())
    return value


def keyed_hash(secret: bytes, purpose: str, value: str, length: int = 32) -> str:
    """Domain-separated HMAC, e.g. for throttling clients without keeping their addresses."""
    return hmac.new(secret, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()[:length]
