"""Bounded JSON loading for untrusted bodies: a size cap and a nesting-depth cap checked before parsing."""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 1_048_576  # Mastodon's cap for fetched and posted documents
MAX_DEPTH = 32  # real activities nest < 10 levels (Announce > Create > Note > tag > object)

# Strings are skipped whole by the regex engine, so only brackets reach Python code.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JsonReason(enum.StrEnum):
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"


@dataclass(frozen=True)
class JsonLoaded:
    value: dict[str, Any]


@dataclass(frozen=True)
class JsonRejected:
    reason: JsonReason
    description: str


JsonResult = JsonLoaded | JsonRejected


def load_json(body: bytes | str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> JsonResult:
    """Parse a JSON object from an untrusted body; never raises for bad input."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    if len(raw) > max_bytes:
        return JsonRejected(JsonReason.TOO_LARGE, f"body exceeds {max_bytes} bytes")
    # Fewer opening brackets than the cap cannot nest deeper than it: most activities skip the scan.
    if raw.count(b"{") + raw.count(b"[") > max_depth and nesting_depth(raw) > max_depth:
        return JsonRejected(JsonReason.TOO_DEEP, f"JSON nests deeper than {max_depth} levels")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return JsonRejected(JsonReason.INVALID_JSON, f"not valid JSON: {type(exc).__name__}")
    if not isinstance(value, dict):
        return JsonRejected(JsonReason.NOT_AN_OBJECT, "JSON document is not an object")
    return JsonLoaded(value)


def nesting_depth(raw: bytes) -> int:
    """Deepest bracket nesting outside strings (an upper bound when the JSON is malformed)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest
