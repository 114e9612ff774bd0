"""Helpers for the activitypub library tests: fixture paths, the fixed test keys, a recording key fetcher."""

from __future__ import annotations

import socket
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


class MapResolver:
    """Test resolver (aiohttp's FakeResolver pattern): host name -> (address, port) of a local test server.

    Wrapped by the guard's resolver, so the address policy still applies to what it answers.
    """

    def __init__(self, mapping: dict[str, tuple[str, int]] | None = None) -> None:
        self.mapping = dict(mapping or {})
        self.asked: list[str] = []

    async def resolve(self, host, port=0, family=0):
        self.asked.append(host)
        if host not in self.mapping:
            raise OSError(f"no such test host {host}")
        address, real_port = self.mapping[host]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [{"hostname": host, "host": address, "port": real_port, "family": family, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self):
        pass
