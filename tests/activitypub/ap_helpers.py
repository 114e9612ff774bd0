"""Helpers for the activitypub library tests: fixture paths, the fixed test keys, a recording key fetcher."""

from __future__ import annotations

from pathlib import Path

from activitypub.keycache import KeyFetchFailed, KeyFetchReason, RemoteKey

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KEYS = FIXTURES / "keys"
PAYLOADS = FIXTURES / "payloads"


def read_key(name: str) -> str:
    return (KEYS / name).read_text()


class RecordingKeys:
    """A `KeyFetcher` over a dict that records every key id it was asked for."""

    def __init__(self, keys: dict[str, RemoteKey]) -> None:
        self.keys = keys
        self.calls: list[str] = []

    async def fetch_key(self, key_id: str):
        self.calls.append(key_id)
        key = self.keys.get(key_id)
        if key is None:
            return KeyFetchFailed(key_id, KeyFetchReason.NOT_FOUND, "unknown key")
        return key
