"""Signing outgoing requests exactly as Mastodon does (draft-cavage, rsa-sha256)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
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

    @classmethod
    def from_pem(cls, key_id: str, private_key_pem: str) -> Signer:
        return cls(key_id, load_private_key(private_key_pem))


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
    signature = cavage.rsa_sign(signer.private_key, cavage.signing_string(method, target, headers, names))
    out = {name.title(): value for name, value in headers.items()}
    out["Signature"] = cavage.format_signature(signer.key_id, names, signature)
    return out


def sign_posts(
    requests: Sequence[tuple[Signer, str, bytes]],
    helper: Executor | None = None,
    *,
    content_type: str = "application/activity+json",
    now: datetime | None = None,
) -> list[dict[str, str]]:
    """`sign_request` for many POSTs, each (signer, url, body); the headers come back in order.

    With `helper` (a thread pool), the calling thread and a helper thread take the requests one by one from
    a shared queue until none is left: the RSA step releases the GIL, so the two sign on two cores, and
    whichever is slowed down (by the other core's load) simply takes fewer. The caller blocks until both
    are done, so no other Python code competes for the GIL meanwhile (an event loop doing I/O on the other
    side would keep the helper waiting for the GIL after every signature)."""
    signed: list[dict[str, str] | None] = [None] * len(requests)
    pending = iter(range(len(requests)))  # next() on it is atomic under the GIL: each index is taken once

    def take_and_sign() -> None:
        for i in pending:
            signer, url, body = requests[i]
            signed[i] = sign_request(signer, "POST", url, body, content_type=content_type, now=now)

    if helper is None or len(requests) < 2:
        take_and_sign()
    else:
        helping = helper.submit(take_and_sign)
        take_and_sign()
        helping.result()
    return signed  # type: ignore[return-value]  (every index was taken and signed)
