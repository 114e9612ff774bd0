"""The log's signing key and its signed checkpoints.

The Ed25519 key lives in a file under data_dir, outside the database, created at first use: whoever can
rewrite the database still cannot sign a checkpoint over a rewritten history. The origin (and key name)
is the instance host plus "/audit", e.g. "stadt.example/audit" (C2SP tlog-checkpoint).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.auditlog import split_frontier
from consent.checkpoint import (
    VerifierKey,
    generate_private_key,
    load_private_key_pem,
    private_key_pem,
    public_key_pem,
    sign_checkpoint,
)
from consent.merkle import CompactTree
from consent.models_privacy import HEAD_ID, AuditCheckpoint, AuditHead

KEY_FILE = "audit-checkpoint.key"


def origin_for(base_url: str) -> str:
    """"host[:port]/audit": a schema-less URL, one line, no spaces or '+'."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "localhost").lower()
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{netloc}/audit"


@dataclass(frozen=True)
class LogSigner:
    origin: str
    private_key: Ed25519PrivateKey = field(repr=False)

    @property
    def verifier_key(self) -> VerifierKey:
        return VerifierKey(self.origin, self.private_key.public_key())

    def public_pem(self) -> str:
        return public_key_pem(self.private_key).decode("ascii")

    def sign(self, size: int, root: bytes) -> str:
        return sign_checkpoint(self.origin, size, root, self.private_key, self.origin)


def load_or_create_signer(data_dir: Path, base_url: str) -> LogSigner:
    path = Path(data_dir) / KEY_FILE
    if path.exists():
        return LogSigner(origin_for(base_url), load_private_key_pem(path.read_bytes()))
    key = generate_private_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it a moment ago: use theirs
        return LogSigner(origin_for(base_url), load_private_key_pem(path.read_bytes()))
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_key_pem(key))
    return LogSigner(origin_for(base_url), key)


async def latest_checkpoint(session: AsyncSession) -> AuditCheckpoint | None:
    return await session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc(),
                                                                 AuditCheckpoint.id.desc()).limit(1))


async def write_checkpoint(session: AsyncSession, signer: LogSigner, now: datetime | None = None) -> AuditCheckpoint:
    """Sign the committed tree as it stands; reuses the latest checkpoint when nothing was appended since."""
    head = await session.scalar(select(AuditHead).where(AuditHead.id == HEAD_ID)
                                .execution_options(populate_existing=True))
    tree = CompactTree.from_state(head.size, split_frontier(head.frontier))
    latest = await latest_checkpoint(session)
    if latest is not None and latest.size == tree.size:
        return latest
    root = tree.root()
    checkpoint = AuditCheckpoint(size=tree.size, root=root, note=signer.sign(tree.size, root),
                                 created_at=now or datetime.now(timezone.utc))
    session.add(checkpoint)
    await session.flush()
    return checkpoint


async def checkpoints(session: AsyncSession, min_size: int = 0) -> list[AuditCheckpoint]:
    return list((await session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.size >= min_size)
                                       .order_by(AuditCheckpoint.size, AuditCheckpoint.id))).all())
