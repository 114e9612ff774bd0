"""Keyed hashes of remote object and activity ids, so rows can be found by id without storing it.

A fingerprint is HMAC-SHA-256 under the vault's pseudonym secret, in a domain of its own per kind, so
an activity id's fingerprint never equals a subject's pseudonym and kinds cannot be matched across
tables. Ids are hashed exactly as received: servers compare them as opaque strings.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac

from consent.vault import Vault

_DOMAIN = b"stadtbote/fingerprint/v1\x00"


class Kind(enum.StrEnum):
    ACTIVITY = "activity"  # inbound activity ids (dedupe, likes and boosts)
    OBJECT = "object"  # note ids of replies
    QUOTE = "quote"  # QuoteRequest ids, the tokens of our QuoteAuthorizations


def fingerprint(vault: Vault, kind: Kind, value: str) -> str:
    """32 lower-case base32 characters (160 bits), like pseudonyms."""
    message = _DOMAIN + str(kind).encode("ascii") + b"\x00" + value.encode("utf-8", "surrogatepass")
    digest = hmac.new(vault.pseudonymizer.secret, message, hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode("ascii").lower()
