"""KeyCache: a day of caching, one refetch per key per five minutes, rotation works, no fetch storms."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from ap_helpers import RecordingKeys

from activitypub.keycache import KeyCache, KeyFetchFailed, KeyFetchReason, RemoteKey
from activitypub.signatures import RejectReason, Rejected, Signer, Verified, sign_request, verify_request

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
ACTOR = "https://mastodon.example/users/alice"
KEY_ID = ACTOR + "#main-key"
BODY = b'{"type":"Create"}'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def post(pem: str) -> dict[str, str]:
    return sign_request(Signer.from_pem(KEY_ID, pem), "POST", "https://city.example/inbox", BODY, now=NOW)


async def check(headers, cache):
    return await verify_request("POST", "/inbox", headers, BODY, cache, now=NOW)


async def test_key_is_cached_for_a_day(private_pem, public_pem):
    clock = Clock()
    source = RecordingKeys({KEY_ID: RemoteKey(KEY_ID, ACTOR, public_pem)})
    cache = KeyCache(source, clock=clock)
    for _ in range(5):
        assert isinstance(await check(post(private_pem), cache), Verified)
    assert source.calls == [KEY_ID]
    clock.now += 24 * 3600 + 1
    assert isinstance(await check(post(private_pem), cache), Verified)
    assert source.calls == [KEY_ID, KEY_ID]


async def test_rotated_key_is_refetched_once_and_then_verifies(private_pem, public_pem, other_private_pem, other_public_pem):
    clock = Clock()
    source = RecordingKeys({KEY_ID: RemoteKey(KEY_ID, ACTOR, public_pem)})
    cache = KeyCache(source, clock=clock)
    assert isinstance(await check(post(private_pem), cache), Verified)
    source.keys[KEY_ID] = RemoteKey(KEY_ID, ACTOR, other_public_pem)  # the remote rotated its key
    clock.now += 301
    assert isinstance(await check(post(other_private_pem), cache), Verified)
    assert source.calls == [KEY_ID, KEY_ID]
    assert isinstance(await check(post(other_private_pem), cache), Verified)
    assert len(source.calls) == 2


async def test_flood_of_bad_signatures_causes_no_fetch_storm(public_pem, other_private_pem):
    clock = Clock()
    source = RecordingKeys({KEY_ID: RemoteKey(KEY_ID, ACTOR, public_pem)})
    cache = KeyCache(source, clock=clock)
    forged = post(other_private_pem)
    for _ in range(50):
        result = await check(forged, cache)
        assert isinstance(result, Rejected) and result.reason is RejectReason.INVALID_SIGNATURE
    assert len(source.calls) == 1  # the first fetch; the refetch is throttled for 5 minutes
    clock.now += 301
    for _ in range(50):
        await check(forged, cache)
    assert len(source.calls) == 2  # exactly one refetch per 5 minutes


async def test_concurrent_requests_share_one_fetch(private_pem, public_pem):
    class SlowKeys(RecordingKeys):
        async def fetch_key(self, key_id):
            await asyncio.sleep(0.01)
            return await super().fetch_key(key_id)

    source = SlowKeys({KEY_ID: RemoteKey(KEY_ID, ACTOR, public_pem)})
    cache = KeyCache(source)
    results = await asyncio.gather(*(check(post(private_pem), cache) for _ in range(20)))
    assert all(isinstance(r, Verified) for r in results)
    assert source.calls == [KEY_ID]


async def test_failed_fetch_is_remembered_for_five_minutes(private_pem):
    clock = Clock()
    source = RecordingKeys({})
    cache = KeyCache(source, clock=clock)
    for _ in range(10):
        result = await check(post(private_pem), cache)
        assert isinstance(result, Rejected) and result.reason is RejectReason.KEY_FETCH_FAILED
    assert len(source.calls) == 1
    clock.now += 301
    await check(post(private_pem), cache)
    assert len(source.calls) == 2


async def test_refresh_is_throttled_and_says_so(public_pem):
    clock = Clock()
    cache = KeyCache(RecordingKeys({KEY_ID: RemoteKey(KEY_ID, ACTOR, public_pem)}), clock=clock)
    await cache.fetch_key(KEY_ID)
    throttled = await cache.refresh_key(KEY_ID)
    assert isinstance(throttled, KeyFetchFailed) and throttled.reason is KeyFetchReason.THROTTLED
    clock.now += 301
    assert isinstance(await cache.refresh_key(KEY_ID), RemoteKey)


async def test_cache_is_bounded(public_pem):
    source = RecordingKeys({f"k{i}": RemoteKey(f"k{i}", ACTOR, public_pem) for i in range(10)})
    cache = KeyCache(source, max_entries=3)
    for i in range(10):
        await cache.fetch_key(f"k{i}")
    await cache.fetch_key("k0")
    assert source.calls.count("k0") == 2


async def test_the_cache_only_view_never_asks_the_server(private_pem, public_pem, other_private_pem):
    clock = Clock()
    source = RecordingKeys({KEY_ID: RemoteKey(KEY_ID, ACTOR, public_pem)})
    cache = KeyCache(source, clock=clock)
    refused = await check(post(private_pem), cache.cached_only())
    assert isinstance(refused, Rejected) and source.calls == []  # not cached yet: no fetch
    assert isinstance(await check(post(private_pem), cache), Verified)
    assert isinstance(await check(post(private_pem), cache.cached_only()), Verified)
    bad = await check(post(other_private_pem), cache.cached_only())
    assert isinstance(bad, Rejected) and bad.reason is RejectReason.INVALID_SIGNATURE
    clock.now += 24 * 3600 + 1  # expired entries count as absent
    assert isinstance(await check(post(private_pem), cache.cached_only()), Rejected)
    assert source.calls == [KEY_ID]  # only the one fetch through the cache itself


async def test_the_owners_document_from_a_key_fetch_is_kept_a_minute_and_dropped_with_the_key(public_pem):
    clock = Clock()
    document = {"id": ACTOR, "type": "Person", "inbox": ACTOR + "/inbox"}
    cache = KeyCache(RecordingKeys({KEY_ID: RemoteKey(KEY_ID, ACTOR, public_pem, owner_document=document)}),
                     clock=clock)
    assert cache.recent_actor(ACTOR) is None  # nothing fetched yet
    await cache.fetch_key(KEY_ID)
    assert cache.recent_actor(ACTOR) == document
    assert (await cache.fetch_key(KEY_ID)).owner_document is None  # the day-long cache keeps keys, not documents
    clock.now += 61
    assert cache.recent_actor(ACTOR) is None
    clock.now += 240  # past the refetch interval: a failed verification may fetch the key again
    await cache.refresh_key(KEY_ID)
    assert cache.recent_actor(ACTOR) == document
    cache.forget(KEY_ID)  # e.g. Update(actor): the profile may have changed as well
    assert cache.recent_actor(ACTOR) is None
