"""Body digests: `Digest` (draft-cavage, RFC 3230) and `Content-Digest` (RFC 9530).

Digests are checked against the raw body before anything parses it, so a forged body costs us one hash.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
from dataclasses import dataclass

import http_sf

# Only algorithms that are still collision-resistant; SHA-256 is what Mastodon sends.
_ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


class DigestReason(enum.StrEnum):
    OK = "ok"
    ABSENT = "absent"
    MALFORMED = "malformed"
    UNSUPPORTED = "unsupported"
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class DigestCheck:
    reason: DigestReason
    description: str

    @property
    def ok(self) -> bool:
        return self.reason is DigestReason.OK


def digest_header(body: bytes) -> str:
    """`Digest` value as Mastodon sends it."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest_header(body: bytes) -> str:
    """`Content-Digest` value (RFC 9530)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def check_digest(value: str | None, body: bytes) -> DigestCheck:
    """Check a `Digest` header (`SHA-256=<b64>[, SHA-512=<b64>]`); every known entry must match."""
    if value is None:
        return DigestCheck(DigestReason.ABSENT, "no Digest header")
    entries: list[tuple[str, bytes]] = []
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        if not sep:
            return DigestCheck(DigestReason.MALFORMED, "Digest entry without '='")
        try:
            entries.append((name.strip().lower(), base64.b64decode(encoded.strip(), validate=True)))
        except (binascii.Error, ValueError):
            return DigestCheck(DigestReason.MALFORMED, "Digest value is not base64")
    return _compare(entries, body, "Digest")


def check_content_digest(value: str | None, body: bytes) -> DigestCheck:
    """Check a `Content-Digest` header (a Structured Field dictionary of byte sequences)."""
    if value is None:
        return DigestCheck(DigestReason.ABSENT, "no Content-Digest header")
    try:
        parsed = http_sf.parse(value.encode(), tltype="dictionary")
    except ValueError:  # http_sf's StructuredFieldError is a ValueError
        return DigestCheck(DigestReason.MALFORMED, "Content-Digest is not a structured dictionary")
    entries: list[tuple[str, bytes]] = []
    for name, (member, _params) in parsed.items():
        if not isinstance(member, bytes):
            return DigestCheck(DigestReason.MALFORMED, "Content-Digest member is not a byte sequence")
        entries.append((name.lower(), member))
    return _compare(entries, body, "Content-Digest")


def _compare(entries: list[tuple[str, bytes]], body: bytes, header: str) -> DigestCheck:
    checked = 0
    for name, expected in entries:
        algorithm = _ALGORITHMS.get(name)
        if algorithm is None:
            continue
        if not hmac.compare_digest(algorithm(body).digest(), expected):
            return DigestCheck(DigestReason.MISMATCH, f"{header} {name} does not match the body")
        checked += 1
    if checked == 0:
        return DigestCheck(DigestReason.UNSUPPORTED, f"{header} has no sha-256 or sha-512 entry")
    return DigestCheck(DigestReason.OK, f"{header} matches the body")
