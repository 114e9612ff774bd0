"""C2SP tlog-checkpoint bodies inside C2SP signed notes, signed with Ed25519.

Formats: https://c2sp.org/signed-note and https://c2sp.org/tlog-checkpoint. A note is its text (ending
in a newline), a blank line, then lines "— <key name> <base64(key ID || signature)>". The key ID is
SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]; a verifier key ("vkey") is
"<name>+<key ID hex>+<base64(0x01 || public key)>", as golang.org/x/mod/sumdb/note writes it.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consent.canonical import b64 as _b64
from consent.canonical import unb64 as _unb64

ED25519_TYPE = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # the spec asks for at least 16; Go's note package allows 100
_NAME_FORBIDDEN = re.compile(r"[\s+]")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_SIZE = re.compile(r"0|[1-9][0-9]*")


class KeyFormatError(ValueError):
    """A key name, vkey string or PEM file is not what it must be."""


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A pinned log key: the name in signature lines and the Ed25519 public key."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    def encode(self) -> str:
        raw = _raw_public(self.public_key)
        return f"{self.name}+{self.key_id:08x}+{_b64(bytes([ED25519_TYPE]) + raw)}"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(f"{line}\n" for line in lines)


class CheckpointReason(enum.StrEnum):
    OK = "ok"
    MALFORMED_NOTE = "malformed_note"
    MALFORMED_CHECKPOINT = "malformed_checkpoint"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    reason: CheckpointReason
    description: str
    checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return self.reason is CheckpointReason.OK


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def check_key_name(name: str) -> str:
    if not name or _NAME_FORBIDDEN.search(name) or _CONTROL.search(name) or "\n" in name:
        raise KeyFormatError(f"key name {name!r} must be non-empty without spaces or '+'")
    return name


def key_id(name: str, public_key: Ed25519PublicKey) -> int:
    """SHA-256(name || 0x0A || 0x01 || public key)[:4] as a big-endian uint32 (signed-note §Ed25519)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519_TYPE]) + _raw_public(public_key))
    return int.from_bytes(digest.digest()[:4], "big")


def parse_vkey(vkey: str) -> VerifierKey:
    """Parse "<name>+<hex key ID>+<base64(0x01 || key)>" and check that the ID matches the key."""
    parts = vkey.strip().split("+")
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise KeyFormatError("a vkey is <name>+<8 lowercase hex digits>+<base64 key>")
    name = check_key_name(parts[0])
    raw = _unb64(parts[2])
    if raw is None or len(raw) != 33 or raw[0] != ED25519_TYPE:
        raise KeyFormatError("vkey key must be base64 of 0x01 followed by a 32-byte Ed25519 key")
    key = VerifierKey(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
    if key.key_id != int(parts[1], 16):
        raise KeyFormatError("vkey key ID does not match its name and public key")
    return key


def sign_note(text: str, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """Return `text` as a signed note with one Ed25519 signature."""
    check_key_name(key_name)
    if not text.endswith("\n") or _CONTROL.search(text):
        raise ValueError("note text must end in a newline and hold no control characters")
    kid = key_id(key_name, private_key.public_key()).to_bytes(4, "big")
    signature = private_key.sign(text.encode("utf-8"))
    return f"{text}\n{SIGNATURE_PREFIX}{key_name} {_b64(kid + signature)}\n"


def sign_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    private_key: Ed25519PrivateKey,
    key_name: str,
    extensions: Sequence[str] = (),
) -> str:
    """Sign a tlog-checkpoint for `size` leaves with tree hash `root`; `key_name` should equal `origin`."""
    if not origin or "\n" in origin or size < 0 or len(root) != 32:
        raise ValueError("checkpoint needs a one-line origin, a size >= 0 and a 32-byte root")
    if any(not line or "\n" in line for line in extensions):
        raise ValueError("extension lines must be non-empty single lines")
    return sign_note(Checkpoint(origin, size, bytes(root), tuple(extensions)).body(), private_key, key_name)


def _split_note(note: str) -> tuple[str, list[str]] | str:
    """Split into (text, signature lines) or return why the note is malformed."""
    if _CONTROL.search(note):
        return "note contains control characters"
    if not note.endswith("\n"):
        return "note must end in a newline"
    cut = note.rfind("\n\n")
    if cut < 0:
        return "note has no blank line before its signatures"
    text, block = note[: cut + 1], note[cut + 2 :]
    lines = block[:-1].split("\n") if block else []
    if not lines:
        return "note has no signature lines"
    if len(lines) > MAX_SIGNATURES:
        return f"note has more than {MAX_SIGNATURES} signatures"
    return text, lines


def _parse_signature(line: str) -> tuple[str, int, bytes] | None:
    if not line.startswith(SIGNATURE_PREFIX):
        return None
    name, sep, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    raw = _unb64(encoded) if sep else None
    if not name or _NAME_FORBIDDEN.search(name) or raw is None or len(raw) < 5:
        return None
    return name, int.from_bytes(raw[:4], "big"), raw[4:]


def open_note(note: str, key: VerifierKey) -> CheckpointResult | str:
    """Verify a signed note against one pinned key; returns the note text or a failed result."""
    split = _split_note(note)
    if isinstance(split, str):
        return CheckpointResult(CheckpointReason.MALFORMED_NOTE, split)
    text, lines = split
    wanted, matched = key.key_id, 0
    for line in lines:
        sig = _parse_signature(line)
        if sig is None:
            return CheckpointResult(CheckpointReason.MALFORMED_NOTE, f"malformed signature line {line!r}")
        name, kid, signature = sig
        if name != key.name or kid != wanted:
            continue  # the spec: ignore signatures from keys we do not know (witnesses, rotation)
        try:
            key.public_key.verify(signature, text.encode("utf-8"))
        except InvalidSignature:
            return CheckpointResult(CheckpointReason.BAD_SIGNATURE, f"signature by {name} does not verify")
        matched += 1
    if not matched:
        return CheckpointResult(CheckpointReason.UNKNOWN_KEY, f"no signature by {key.name} ({wanted:08x})")
    return text


def parse_checkpoint_body(text: str) -> Checkpoint | str:
    """Parse the note text of a checkpoint, or return why it is malformed. Does not verify anything."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        return "checkpoint needs origin, size and root hash lines, none empty"
    origin, size, encoded, extensions = lines[0], lines[1], lines[2], tuple(lines[3:-1])
    if not _SIZE.fullmatch(size):
        return "tree size must be decimal without leading zeros"
    root = _unb64(encoded)
    if root is None or len(root) != 32:
        return "root hash must be base64 of 32 bytes"
    return Checkpoint(origin, int(size), root, extensions)


def parse_and_verify(text: str, public_key: Ed25519PublicKey | VerifierKey, key_name: str = "") -> CheckpointResult:
    """Verify a signed checkpoint note against a pinned key and parse its body."""
    key = public_key if isinstance(public_key, VerifierKey) else VerifierKey(check_key_name(key_name), public_key)
    opened = open_note(text, key)
    if isinstance(opened, CheckpointResult):
        return opened
    checkpoint = parse_checkpoint_body(opened)
    if isinstance(checkpoint, str):
        return CheckpointResult(CheckpointReason.MALFORMED_CHECKPOINT, checkpoint)
    return CheckpointResult(CheckpointReason.OK, f"checkpoint of size {checkpoint.size} verified", checkpoint)


def read_unverified(note: str) -> Checkpoint | str:
    """Parse a checkpoint note WITHOUT checking signatures: only for the log that just signed it."""
    split = _split_note(note)
    return split if isinstance(split, str) else parse_checkpoint_body(split[0])


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(private_key: Ed25519PrivateKey, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted when a password is given."""
    encryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM, what `stadtbote audit pubkey` prints."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key_pem(data: bytes, password: bytes | None = None) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"cannot read the private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError("the checkpoint key must be Ed25519")
    return key


def load_public_key_pem(data: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"cannot read the public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFormatError("the checkpoint key must be Ed25519")
    return key
