"""Crypto-shredding: one AES-256-GCM data key per subject, wrapped by a server key-encryption key.

Personal fields are stored as `encrypt_field` blobs; the subject's data key is stored only wrapped
(`wrap_key`) under a KEK that lives outside the database, so a database dump alone reveals nothing.
Erasure deletes the wrapped key: every blob of that subject, in the database and in every backup,
becomes unreadable, and `decrypt_field` reports KEY_DESTROYED instead of raising.

Field blob:   0x01 || nonce(12) || AES-GCM(ciphertext || tag(16)), AAD = 0x01 || caller's aad
Wrapped key:  0x01 || KEK ID(4) || nonce(12) || AES-GCM(data key(32) || tag(16)),
              AAD = b"stadtbote/subject-key/v1" || 0x00 || key_ref
The version byte is inside the AAD so a blob cannot be replayed under another format.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
FIELD_VERSION = 0x01
WRAP_VERSION = 0x01
_WRAP_CONTEXT = b"stadtbote/subject-key/v1\x00"
_KEK_INFO = b"stadtbote/kek/v1"


class KeyReason(enum.StrEnum):
    OK = "ok"
    KEY_DESTROYED = "key_destroyed"
    WRONG_KEY_OR_CONTEXT = "wrong_key_or_context"
    WRONG_KEK = "wrong_kek"
    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported_version"


@dataclass(frozen=True, slots=True)
class Decrypted:
    """The outcome of decrypting a field; `value` is None unless ok."""

    reason: KeyReason
    description: str
    value: str | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.reason is KeyReason.OK


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """The outcome of unwrapping a data key; `key` is None unless ok."""

    reason: KeyReason
    description: str
    key: bytes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.reason is KeyReason.OK


def new_data_key() -> bytes:
    """A fresh random 256-bit subject data key."""
    return AESGCM.generate_key(bit_length=256)


def derive_kek(server_secret: bytes) -> bytes:
    """Derive the KEK from the server secret (HKDF-SHA-256), keeping it apart from other derived keys."""
    if len(server_secret) < KEY_SIZE:
        raise ValueError("the server secret must be at least 32 bytes")
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=_KEK_INFO).derive(server_secret)


def kek_id(kek: bytes) -> bytes:
    """4-byte identifier of a KEK, so rotation can tell 'other KEK' from 'tampered'."""
    return hashlib.sha256(b"stadtbote/kek-id\x00" + kek).digest()[:4]


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise ValueError("keys are 32 bytes")


def encrypt_field(key: bytes, plaintext: str, aad: bytes) -> bytes:
    """Encrypt one personal field. `aad` should name where it lives (table, column, row id)."""
    _check_key(key)
    nonce = os.urandom(NONCE_SIZE)  # 96-bit random nonce: safe far beyond a subject's field count
    version = bytes([FIELD_VERSION])
    return version + nonce + AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), version + aad)


def decrypt_field(key: bytes | None, blob: bytes, aad: bytes) -> Decrypted:
    """Decrypt a field; `key=None` means the subject's key was destroyed (erased subject)."""
    if key is None:
        return Decrypted(KeyReason.KEY_DESTROYED, "the subject's data key was destroyed")
    _check_key(key)
    if len(blob) < 1 + NONCE_SIZE + TAG_SIZE:
        return Decrypted(KeyReason.MALFORMED, "field blob is too short")
    if blob[0] != FIELD_VERSION:
        return Decrypted(KeyReason.UNSUPPORTED_VERSION, f"field format version {blob[0]} is unknown")
    nonce, sealed = blob[1 : 1 + NONCE_SIZE], blob[1 + NONCE_SIZE :]
    try:
        plain = AESGCM(key).decrypt(nonce, sealed, blob[:1] + aad)
    except InvalidTag:
        return Decrypted(KeyReason.WRONG_KEY_OR_CONTEXT, "wrong key, wrong context or altered ciphertext")
    try:
        return Decrypted(KeyReason.OK, "decrypted", plain.decode("utf-8"))
    except UnicodeDecodeError:
        return Decrypted(KeyReason.MALFORMED, "decrypted field is not UTF-8")


def wrap_key(kek: bytes, data_key: bytes, key_ref: bytes = b"") -> bytes:
    """Wrap a data key under the KEK; `key_ref` (e.g. the subject pseudonym) binds it to its owner."""
    _check_key(kek)
    _check_key(data_key)
    nonce = os.urandom(NONCE_SIZE)
    header = bytes([WRAP_VERSION]) + kek_id(kek)
    return header + nonce + AESGCM(kek).encrypt(nonce, data_key, _WRAP_CONTEXT + header + key_ref)


def unwrap_key(kek: bytes, wrapped: bytes, key_ref: bytes = b"") -> Unwrapped:
    """Recover a data key wrapped by `wrap_key` under the same KEK and key_ref."""
    _check_key(kek)
    if len(wrapped) != 1 + 4 + NONCE_SIZE + KEY_SIZE + TAG_SIZE:
        return Unwrapped(KeyReason.MALFORMED, "wrapped key has the wrong length")
    if wrapped[0] != WRAP_VERSION:
        return Unwrapped(KeyReason.UNSUPPORTED_VERSION, f"wrap format version {wrapped[0]} is unknown")
    header, nonce, sealed = wrapped[:5], wrapped[5 : 5 + NONCE_SIZE], wrapped[5 + NONCE_SIZE :]
    if not hmac.compare_digest(header[1:], kek_id(kek)):
        return Unwrapped(KeyReason.WRONG_KEK, "wrapped under a different key-encryption key")
    try:
        key = AESGCM(kek).decrypt(nonce, sealed, _WRAP_CONTEXT + header + key_ref)
    except InvalidTag:
        return Unwrapped(KeyReason.WRONG_KEY_OR_CONTEXT, "wrapped key altered or bound to another subject")
    return Unwrapped(KeyReason.OK, "unwrapped", key)


def rewrap_key(old_kek: bytes, new_kek: bytes, wrapped: bytes, key_ref: bytes = b"") -> bytes | Unwrapped:
    """KEK rotation: re-wrap under `new_kek`, or return the failed unwrap result."""
    result = unwrap_key(old_kek, wrapped, key_ref)
    if not result.ok or result.key is None:
        return result
    return wrap_key(new_kek, result.key, key_ref)
