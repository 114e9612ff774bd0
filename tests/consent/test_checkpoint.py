"""C2SP signed notes and tlog-checkpoints with Ed25519."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.checkpoint import (
    CheckpointReason,
    KeyFormatError,
    VerifierKey,
    key_id,
    load_private_key_pem,
    load_public_key_pem,
    open_note,
    parse_and_verify,
    parse_vkey,
    private_key_pem,
    public_key_pem,
    read_unverified,
    sign_checkpoint,
    sign_note,
)

# The example of golang.org/x/mod/sumdb/note (example_test.go, ExampleSign / ExampleOpen): the private
# key "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALV…" is 0x01 || 32-byte Ed25519 seed.
GO_SKEY = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + (
    "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ORIGIN = "stadt.example/audit"
ROOT = bytes(range(32))


def _go_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(GO_SKEY)[1:])


@pytest.fixture(scope="module")
def log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # fixed test key


def test_key_id_and_vkey_match_the_go_note_example():
    key = VerifierKey("PeterNeumann", _go_key().public_key())
    assert key.key_id == key_id("PeterNeumann", key.public_key) == 0xC74F20A3
    assert key.encode() == GO_VKEY
    assert parse_vkey(GO_VKEY).key_id == 0xC74F20A3


def test_signature_matches_the_go_note_example_byte_for_byte():
    # Ed25519 is deterministic, so the same key and text must give the published note exactly.
    assert sign_note(GO_TEXT, _go_key(), "PeterNeumann") == GO_NOTE
    assert open_note(GO_NOTE, parse_vkey(GO_VKEY)) == GO_TEXT


def test_checkpoint_round_trip(log_key):
    note = sign_checkpoint(ORIGIN, 42, ROOT, log_key, ORIGIN, extensions=["ext line"])
    body = f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\next line\n"
    assert note.startswith(body + "\n— " + ORIGIN + " ")
    result = parse_and_verify(note, log_key.public_key(), ORIGIN)
    assert result.ok, result
    assert (result.checkpoint.origin, result.checkpoint.size, result.checkpoint.root) == (ORIGIN, 42, ROOT)
    assert result.checkpoint.extensions == ("ext line",)
    assert read_unverified(note) == result.checkpoint


def test_tampered_body_is_rejected(log_key):
    note = sign_checkpoint(ORIGIN, 42, ROOT, log_key, ORIGIN)
    result = parse_and_verify(note.replace("\n42\n", "\n43\n"), log_key.public_key(), ORIGIN)
    assert result.reason is CheckpointReason.BAD_SIGNATURE


def test_tampered_signature_is_rejected(log_key):
    note = sign_checkpoint(ORIGIN, 42, ROOT, log_key, ORIGIN)
    head, sig = note.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 1
    forged = f"{head} {base64.b64encode(bytes(raw)).decode()}\n"
    assert parse_and_verify(forged, log_key.public_key(), ORIGIN).reason is CheckpointReason.BAD_SIGNATURE


def test_wrong_key_or_name_is_an_unknown_key(log_key):
    note = sign_checkpoint(ORIGIN, 1, ROOT, log_key, ORIGIN)
    other = Ed25519PrivateKey.generate().public_key()
    assert parse_and_verify(note, other, ORIGIN).reason is CheckpointReason.UNKNOWN_KEY
    assert parse_and_verify(note, log_key.public_key(), "other.example").reason is CheckpointReason.UNKNOWN_KEY


def test_unknown_extra_signatures_are_ignored(log_key):
    note = sign_checkpoint(ORIGIN, 1, ROOT, log_key, ORIGIN)
    witness = sign_note(note.split("\n\n")[0] + "\n", Ed25519PrivateKey.generate(), "witness.example")
    cosigned = note + witness.split("\n\n")[1]
    assert parse_and_verify(cosigned, log_key.public_key(), ORIGIN).ok


@pytest.mark.parametrize(
    "note",
    [
        "",
        "no blank line\n— a AAAAAAA=\n",
        f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()}\n\n",  # no signature lines
        f"{ORIGIN}\n1\n\n— {ORIGIN} !!!\n",  # signature is not base64
        f"{ORIGIN}\n1\r\n\n— {ORIGIN} AAAAAAA=\n",  # control character
        f"{ORIGIN}\n1\n\n- {ORIGIN} AAAAAAA=\n",  # hyphen instead of em dash
    ],
)
def test_malformed_notes(log_key, note):
    assert parse_and_verify(note, log_key.public_key(), ORIGIN).reason is CheckpointReason.MALFORMED_NOTE


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n1\n",  # no root line
        f"{ORIGIN}\n01\n{base64.b64encode(ROOT).decode()}\n",  # leading zero
        f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte root
    ],
)
def test_malformed_checkpoint_bodies(log_key, body):
    note = sign_note(body, log_key, ORIGIN)
    assert parse_and_verify(note, log_key.public_key(), ORIGIN).reason is CheckpointReason.MALFORMED_CHECKPOINT


def test_signing_refuses_bad_input(log_key):
    with pytest.raises(ValueError):
        sign_checkpoint("two\nlines", 1, ROOT, log_key, ORIGIN)
    with pytest.raises(ValueError):
        sign_checkpoint(ORIGIN, 1, ROOT[:5], log_key, ORIGIN)
    with pytest.raises(KeyFormatError):
        sign_checkpoint(ORIGIN, 1, ROOT, log_key, "has space")
    with pytest.raises(KeyFormatError):
        sign_checkpoint(ORIGIN, 1, ROOT, log_key, "a+b")


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper-case hex
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not 0x01 || 32 bytes
        "Other+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # ID belongs to another name
        "PeterNeumann+c74f20a3",
    ],
)
def test_bad_vkeys_are_refused(vkey):
    with pytest.raises(KeyFormatError):
        parse_vkey(vkey)


def test_pem_round_trip(log_key):
    assert load_private_key_pem(private_key_pem(log_key)).public_key() == log_key.public_key()
    encrypted = private_key_pem(log_key, b"correct horse")
    assert b"ENCRYPTED" in encrypted
    assert load_private_key_pem(encrypted, b"correct horse").public_key() == log_key.public_key()
    pem = public_key_pem(log_key)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert load_public_key_pem(pem) == log_key.public_key()
    with pytest.raises(KeyFormatError):
        load_public_key_pem(b"not a key")
    with pytest.raises(KeyFormatError):
        load_private_key_pem(encrypted, b"wrong")
