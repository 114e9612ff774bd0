"""Crypto-shredding: field encryption with per-subject keys, wrapped by a KEK."""

from __future__ import annotations

import pytest

from consent.subjectkeys import (
    KeyReason,
    decrypt_field,
    derive_kek,
    encrypt_field,
    new_data_key,
    rewrap_key,
    unwrap_key,
    wrap_key,
)

AAD = b"replies.content:17"
KEK = derive_kek(b"s" * 32)


def test_field_round_trip_with_unicode():
    key = new_data_key()
    blob = encrypt_field(key, "Grüße aus Köln 🌧", AAD)
    assert blob[0] == 0x01 and "Köln".encode() not in blob
    result = decrypt_field(key, blob, AAD)
    assert result.ok and result.value == "Grüße aus Köln 🌧"


def test_same_plaintext_encrypts_differently_each_time():
    key = new_data_key()
    assert encrypt_field(key, "x", AAD) != encrypt_field(key, "x", AAD)


def test_destroyed_key_is_a_typed_failure_not_an_exception():
    blob = encrypt_field(new_data_key(), "secret", AAD)
    result = decrypt_field(None, blob, AAD)
    assert result.reason is KeyReason.KEY_DESTROYED and result.value is None


def test_wrong_key_wrong_aad_and_tampering_fail():
    key = new_data_key()
    blob = encrypt_field(key, "secret", AAD)
    assert decrypt_field(new_data_key(), blob, AAD).reason is KeyReason.WRONG_KEY_OR_CONTEXT
    assert decrypt_field(key, blob, b"replies.content:18").reason is KeyReason.WRONG_KEY_OR_CONTEXT
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    assert decrypt_field(key, tampered, AAD).reason is KeyReason.WRONG_KEY_OR_CONTEXT
    assert decrypt_field(key, b"\x02" + blob[1:], AAD).reason is KeyReason.UNSUPPORTED_VERSION
    assert decrypt_field(key, blob[:20], AAD).reason is KeyReason.MALFORMED


def test_failure_results_never_show_plaintext_in_repr():
    key = new_data_key()
    result = decrypt_field(key, encrypt_field(key, "very personal", AAD), AAD)
    assert "very personal" not in repr(result)


def test_wrap_unwrap_round_trip_bound_to_subject():
    data_key = new_data_key()
    wrapped = wrap_key(KEK, data_key, b"subject:abc")
    assert data_key not in wrapped
    assert unwrap_key(KEK, wrapped, b"subject:abc").key == data_key
    # A wrapped key copied onto another subject's row does not open.
    assert unwrap_key(KEK, wrapped, b"subject:xyz").reason is KeyReason.WRONG_KEY_OR_CONTEXT


def test_unwrap_failures_are_typed():
    wrapped = wrap_key(KEK, new_data_key())
    other = derive_kek(b"t" * 32)
    assert unwrap_key(other, wrapped).reason is KeyReason.WRONG_KEK
    assert unwrap_key(KEK, wrapped[:-1]).reason is KeyReason.MALFORMED
    assert unwrap_key(KEK, b"\x09" + wrapped[1:]).reason is KeyReason.UNSUPPORTED_VERSION
    flipped = wrapped[:20] + bytes([wrapped[20] ^ 1]) + wrapped[21:]
    assert unwrap_key(KEK, flipped).reason is KeyReason.WRONG_KEY_OR_CONTEXT


def test_kek_rotation_keeps_fields_readable():
    data_key = new_data_key()
    blob = encrypt_field(data_key, "kept", AAD)
    new_kek = derive_kek(b"n" * 32)
    rewrapped = rewrap_key(KEK, new_kek, wrap_key(KEK, data_key, b"s1"), b"s1")
    assert isinstance(rewrapped, bytes)
    unwrapped = unwrap_key(new_kek, rewrapped, b"s1")
    assert decrypt_field(unwrapped.key, blob, AAD).value == "kept"
    assert rewrap_key(new_kek, KEK, wrap_key(KEK, data_key)).reason is KeyReason.WRONG_KEK


def test_keys_and_secrets_are_checked():
    with pytest.raises(ValueError):
        encrypt_field(b"short", "x", AAD)
    with pytest.raises(ValueError):
        derive_kek(b"too short")
    assert derive_kek(b"s" * 32) == KEK and len(KEK) == 32
