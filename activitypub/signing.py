"""Signing outgoing requests exactly as Mastodon does (draft-cavage, rsa-sha256)."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import cavage
from .digests import digest_header

POST_HEADERS = ("(request-target)", "host", "date", "digest", "content-type")
GET_HEADERS = ("(request-target)", "host", "date")


@dataclass(frozen=True)
class Signer:
    """A loaded private key with its keyId, e.g. `https://city.example/users/stadt#main-key`."""

    key_id: str
    private_key: rsa.RSAPrivateKey
    pem: str | None = field(default=None, repr=False)  # lets a signing process load the same key

    @classmethod
    def from_pem(cls, key_id: str, private_key_pem: str) -> Signer:
        return cls(key_id, load_private_key(private_key_pem), private_key_pem)


@functools.lru_cache(maxsize=64)
def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    # Cached: parsing a PEM costs more than signing with it.
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("only RSA keys are used for HTTP signatures")
    return key


@functools.lru_cache(maxsize=4096)
def load_public_key(pem: str) -> rsa.RSAPublicKey | None:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


def sign_request(
    signer: Signer,
    method: str,
    url: str,
    body: bytes | None = None,
    *,
    content_type: str = "application/activity+json",
    now: datetime | None = None,
) -> dict[str, str]:
    """Headers to send with the request: Host, Date, (Digest, Content-Type,) Signature.

    POST signs `(request-target) host date digest content-type`, GET `(request-target) host date`,
    exactly as Mastodon does.
    """
    prepared = _prepare(method, url, body, content_type, now)
    return _finish(signer, prepared, cavage.rsa_sign(signer.private_key, prepared[2]))


_Prepared = tuple[dict[str, str], tuple[str, ...], str]  # headers, the names signed, the signing string


def _prepare(method: str, url: str, body: bytes | None, content_type: str, now: datetime | None) -> _Prepared:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = {"host": parts.netloc.rpartition("@")[2].lower(), "date": cavage.http_date(now or datetime.now(timezone.utc))}
    names = GET_HEADERS
    if method.upper() not in ("GET", "HEAD"):
        headers["digest"] = digest_header(body or b"")
        headers["content-type"] = content_type
        names = POST_HEADERS
    return headers, names, cavage.signing_string(method, target, headers, names)


def _finish(signer: Signer, prepared: _Prepared, signature_b64: str) -> dict[str, str]:
    headers, names, _ = prepared
    out = {name.title(): value for name, value in headers.items()}
    out["Signature"] = cavage.format_signature(signer.key_id, names, signature_b64)
    return out


def start_signing_process() -> None:
    """Initializer of a signing process: it ends when the process that started it ends, even by SIGKILL
    (a pool's worker holds both ends of its own task pipe, so it would never see the pipe close)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_for_parent() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=wait_for_parent, name="stadtbote-parent-watch", daemon=True).start()


def sign_strings(private_key_pem: str, strings: list[str]) -> list[str]:
    """Base64 RSA signatures of the signing strings, in order; what a signing process runs."""
    key = load_private_key(private_key_pem)  # cached per process: parsed once, not per call
    return [cavage.rsa_sign(key, text) for text in strings]


async def sign_posts(
    requests: Sequence[tuple[Signer, str, bytes]],
    pool: Executor | None = None,
    *,
    content_type: str = "application/activity+json",
    now: datetime | None = None,
) -> list[dict[str, str]]:
    """`sign_request` for many POSTs, each (signer, url, body); the headers come back in order.

    With `pool` (a process pool), the RSA step runs there, one call per key, while the event loop goes on
    sending: RSA does release the GIL, but a signing *thread* must take the GIL back after every signature
    and waits for it while the loop is busy, so a second process keeps a second core busy and a thread
    does not. Signers sent to a pool need their PEM (`Signer.from_pem`)."""
    prepared = [_prepare("POST", url, body, content_type, now) for _, url, body in requests]
    if pool is None:
        return [_finish(signer, p, cavage.rsa_sign(signer.private_key, p[2]))
                for (signer, _, _), p in zip(requests, prepared)]
    by_key: dict[str, list[int]] = {}
    for i, (signer, _, _) in enumerate(requests):
        if signer.pem is None:
            raise ValueError("a signer without its PEM cannot sign in another process")
        by_key.setdefault(signer.pem, []).append(i)
    loop = asyncio.get_running_loop()
    signatures = [""] * len(requests)
    for pem, indexes in by_key.items():
        done = await loop.run_in_executor(pool, sign_strings, pem, [prepared[i][2] for i in indexes])
        for i, signature in zip(indexes, done):
            signatures[i] = signature
    return [_finish(signer, p, signature) for (signer, _, _), p, signature in zip(requests, prepared, signatures)]
