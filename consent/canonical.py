"""Canonical serialisation of audit entries, the bytes a Merkle leaf commits to.

JSON with sorted keys, no whitespace, UTF-8, non-ASCII kept literal. Floats are refused and integers
are kept within ±(2**53 - 1): on that subset (and with ASCII keys) the output coincides with RFC 8785
(JCS), so a verifier written in any language can recompute the same leaf hash.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalError(ValueError):
    """The entry cannot be serialised canonically (floats, huge ints, non-string keys, bad text)."""


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """Return the canonical JSON bytes of an entry object."""
    if not isinstance(entry, Mapping):
        raise CanonicalError("an entry must be a JSON object")
    _check_value(entry)
    try:
        text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError) as exc:  # lone surrogates, unsupported types
        raise CanonicalError(f"entry is not canonical JSON: {exc}") from exc


def _check_value(value: Any) -> None:
    # Walk the structure once so the error names the real problem instead of json's message.
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(f"integer {value} exceeds ±(2**53 - 1)")
        return
    if isinstance(value, float):
        raise CanonicalError("floats are not allowed in audit entries; use integers or strings")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"object keys must be strings, not {type(key).__name__}")
            _check_value(item)
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_value(item)
        return
    raise CanonicalError(f"unsupported type in entry: {type(value).__name__}")


def b64(data: bytes) -> str:
    """Standard base64 (RFC 4648 §4), the encoding of hashes in checkpoints and exports."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: object) -> bytes | None:
    """Strict base64 decode; None for anything but the one canonical encoding of some bytes."""
    if not isinstance(text, str):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    # Reject stray padding bits so each value has exactly one text form.
    return data if b64(data) == text else None
