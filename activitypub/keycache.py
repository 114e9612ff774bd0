"""Remote public keys: the fetcher port and a cache with throttled re-fetching.

Keys are cached for about a day. When a signature fails with a cached key the key may have been
rotated, so it is fetched again, but at most once per key per five minutes (Mastodon's stoplight):
a flood of bad signatures then costs one fetch, not one per request.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

DAY = 24 * 3600.0
REFETCH_INTERVAL = 300.0
# The owner's actor document, fetched along with a key, is kept this long for the handler of the same
# request (a new person's first Follow or reply needs their profile): one GET to their server, not two.
RECENT_ACTOR_SECONDS = 60.0
RECENT_ACTORS = 256


@dataclass(frozen=True)
class RemoteKey:
    key_id: str
    owner: str  # actor URI that the key belongs to (publicKey.owner, confirmed)
    public_key_pem: str
    # The owner's actor document when the fetch that found the key returned it (checked: its id is the owner).
    owner_document: dict[str, Any] | None = field(default=None, compare=False, repr=False)


class KeyFetchReason(enum.StrEnum):
    UNREACHABLE = "unreachable"
    NOT_FOUND = "not_found"
    GONE = "gone"
    INVALID_DOCUMENT = "invalid_document"
    KEY_NOT_IN_DOCUMENT = "key_not_in_document"
    OWNER_MISMATCH = "owner_mismatch"
    REFUSED = "refused"
    THROTTLED = "throttled"
    NOT_CACHED = "not_cached"  # from a cache-only view (`KeyCache.cached_only`)


@dataclass(frozen=True)
class KeyFetchFailed:
    key_id: str
    reason: KeyFetchReason
    description: str


KeyResult = RemoteKey | KeyFetchFailed


@runtime_checkable
class KeyFetcher(Protocol):
    """Port: resolve a keyId to the key and its owner (the bridge may back it by a database)."""

    async def fetch_key(self, key_id: str) -> KeyResult: ...


@runtime_checkable
class KeyRefresher(Protocol):
    """A key source that can be asked for a fresh copy after a failed verification."""

    async def refresh_key(self, key_id: str) -> KeyResult: ...


@dataclass
class _Entry:
    result: KeyResult
    fetched_at: float


class KeyCache:
    """Caches an injected `KeyFetcher`; implements both `KeyFetcher` and `KeyRefresher`."""

    def __init__(
        self,
        fetcher: KeyFetcher,
        *,
        ttl: float = DAY,
        refetch_interval: float = REFETCH_INTERVAL,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher
        self._ttl = ttl
        self._refetch_interval = refetch_interval
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._in_flight: dict[str, asyncio.Future[KeyResult]] = {}
        self._recent_actors: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()
        self.fetch_count = 0  # for metrics and tests

    async def fetch_key(self, key_id: str) -> KeyResult:
        entry = self._entries.get(key_id)
        now = self._clock()
        if entry is not None:
            # Failures are remembered only for the refetch interval, successes for the TTL.
            lifetime = self._ttl if isinstance(entry.result, RemoteKey) else self._refetch_interval
            if now - entry.fetched_at < lifetime:
                self._entries.move_to_end(key_id)
                return entry.result
        return await self._fetch(key_id)

    async def refresh_key(self, key_id: str) -> KeyResult:
        entry = self._entries.get(key_id)
        if entry is not None and self._clock() - entry.fetched_at < self._refetch_interval:
            return KeyFetchFailed(key_id, KeyFetchReason.THROTTLED, "key was fetched less than 5 minutes ago")
        return await self._fetch(key_id)

    def cached_only(self) -> KeyFetcher:
        """A view that answers from the cache and never asks a server (nor re-fetches after a failure):
        for a caller that must not contact a sender before checking who it is."""
        return _CachedOnly(self)

    def _cached(self, key_id: str) -> KeyResult:
        entry = self._entries.get(key_id)
        if entry is not None and isinstance(entry.result, RemoteKey) and self._clock() - entry.fetched_at < self._ttl:
            return entry.result
        return KeyFetchFailed(key_id, KeyFetchReason.NOT_CACHED, "the key is not in the cache")

    def forget(self, key_id: str) -> None:
        """Drop a key, e.g. after a signed Update(actor) announced a new one."""
        entry = self._entries.pop(key_id, None)
        if entry is not None and isinstance(entry.result, RemoteKey):
            self._recent_actors.pop(entry.result.owner, None)  # the profile changed too

    def put(self, key: RemoteKey) -> None:
        """Store a key learnt another way (an Update(actor) signed with the old key)."""
        self._recent_actors.pop(key.owner, None)  # an older copy of the profile must not outlive the update
        self._store(key.key_id, key)

    async def _fetch(self, key_id: str) -> KeyResult:
        # Concurrent requests for one key share a single fetch.
        pending = self._in_flight.get(key_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[KeyResult] = asyncio.get_running_loop().create_future()
        self._in_flight[key_id] = future
        try:
            self.fetch_count += 1
            result = await self._fetcher.fetch_key(key_id)
            self._store(key_id, result)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise, nobody else must
            raise
        finally:
            del self._in_flight[key_id]

    def recent_actor(self, uri: str) -> dict[str, Any] | None:
        """The actor document of `uri` if a key fetch returned it within the last minute, else None."""
        kept = self._recent_actors.get(uri)
        if kept is None or self._clock() - kept[1] >= RECENT_ACTOR_SECONDS:
            return None
        return kept[0]

    def _store(self, key_id: str, result: KeyResult) -> None:
        if isinstance(result, RemoteKey) and result.owner_document is not None:
            # Only briefly, and apart from the keys: a day of actor documents would be a lot of memory.
            self._recent_actors[result.owner] = (result.owner_document, self._clock())
            self._recent_actors.move_to_end(result.owner)
            while len(self._recent_actors) > RECENT_ACTORS:
                self._recent_actors.popitem(last=False)
            result = replace(result, owner_document=None)
        self._entries[key_id] = _Entry(result, self._clock())
        self._entries.move_to_end(key_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


@dataclass(frozen=True)
class _CachedOnly:
    cache: KeyCache

    async def fetch_key(self, key_id: str) -> KeyResult:
        return self.cache._cached(key_id)
