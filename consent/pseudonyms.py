"""Keyed-hash pseudonyms: HMAC-SHA-256 under a server secret kept outside the database.

The audit log names people only by pseudonym (EDPB Guidelines 01/2025: a MAC with a separate secret).
Each purpose gets its own domain, so a subject's pseudonym cannot be matched against a client's.
Identifiers are normalised first so the same person always yields the same pseudonym:

- actor URIs: scheme and host lower-cased, default port dropped, fragment dropped, empty path -> "/";
  path and query keep their case (servers treat them case-sensitively);
- handles: "acct:", a leading "@" and surrounding space removed, user and host lower-cased (Mastodon
  matches usernames case-insensitively), giving "acct:user@host";
- other identifiers ("did:plc:…", "facebook:123"): scheme lower-cased, the rest unchanged.

A handle and the actor URI it resolves to are different identifiers: resolve handles through WebFinger
first and pseudonymise the actor URI. Output: 32 lower-case base32 characters (160 bits).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

_DOMAIN = b"stadtbote/pseudonym/v1\x00"
_PURPOSE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_DEFAULT_PORTS = {"http": 80, "https": 443}
MIN_SECRET = 32


class Purpose(enum.StrEnum):
    SUBJECT = "subject"  # a person outside the authority
    CLIENT = "client"  # a remote server or API client
    USER = "user"  # a staff member in audit entries


def normalize_identifier(identifier: str) -> str:
    """The canonical text of an actor URI, handle or platform id; ValueError if it is none of them."""
    text = identifier.strip()
    if not text or any(c.isspace() for c in text):
        raise ValueError("an identifier is non-empty and contains no spaces")
    lowered = text.lower()
    if lowered.startswith(("http://", "https://")):
        return _normalize_url(text)
    if lowered.startswith("acct:"):
        return _normalize_handle(text[5:])
    if text.startswith("@") or "@" in text.partition(":")[0]:
        return _normalize_handle(text.removeprefix("@"))
    scheme, sep, rest = text.partition(":")
    if not sep or not rest or not _SCHEME.fullmatch(scheme):
        raise ValueError(f"not an actor URI, handle or platform id: {identifier!r}")
    return f"{scheme.lower()}:{rest}"


def _normalize_handle(handle: str) -> str:
    user, sep, host = handle.removeprefix("@").rpartition("@")
    if not sep or not user or not host or "@" in user:
        raise ValueError(f"a handle is user@host: {handle!r}")
    return f"acct:{user.lower()}@{_normalize_host(host)}"


def _normalize_host(host: str) -> str:
    host = host.lower().rstrip(".")
    try:
        # Internationalised names compare by their ASCII (punycode) form.
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise ValueError(f"invalid host name {host!r}") from exc


def _normalize_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not parts.hostname:
        raise ValueError(f"URL without host: {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid port in {url!r}") from exc
    host = _normalize_host(parts.hostname)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        raise ValueError("actor URIs carry no user information")
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


@dataclass(frozen=True, slots=True)
class Pseudonymizer:
    """Holds the pseudonym secret (never printed) and turns identifiers into pseudonyms."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) < MIN_SECRET:
            raise ValueError(f"the pseudonym secret must be at least {MIN_SECRET} bytes")

    def pseudonym(self, purpose: str, identifier: str) -> str:
        """32-character pseudonym of `identifier` within `purpose`."""
        return pseudonym(self.secret, purpose, identifier)


def pseudonym(secret: bytes, purpose: str, identifier: str) -> str:
    """HMAC-SHA-256(secret, domain || purpose || 0x00 || normalised identifier), base32, 32 chars."""
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET:
        raise ValueError(f"the pseudonym secret must be at least {MIN_SECRET} bytes")
    if not _PURPOSE.fullmatch(str(purpose)):
        raise ValueError(f"purpose {purpose!r} must be a short lower-case word")
    message = _DOMAIN + str(purpose).encode("ascii") + b"\x00" + normalize_identifier(identifier).encode("utf-8")
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    # 20 bytes are exactly 32 base32 characters, without padding.
    return base64.b32encode(digest[:20]).decode("ascii").lower()
