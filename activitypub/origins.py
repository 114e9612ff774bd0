"""Origins (scheme, host, port) for FEP-fe34 same-origin checks."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit


@functools.lru_cache(maxsize=4096)  # every inbound request asks for the same few actors' origins
def origin_of(uri: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of an http(s) URI, or None when it is not one."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.lower().rstrip("."), port if port not in (None, default) else None


def same_origin(a: str, b: str) -> bool:
    first = origin_of(a)
    return first is not None and first == origin_of(b)


def host_of(uri: str) -> str | None:
    origin = origin_of(uri)
    return None if origin is None else origin[1]


def strip_fragment(uri: str) -> str:
    return uri.partition("#")[0]
