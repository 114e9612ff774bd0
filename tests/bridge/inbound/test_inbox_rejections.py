"""Requests the inbox refuses before doing any work: each answered with a reason code as JSON and an audit
entry naming only the sender's domain."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bridge.appkeys import FEDERATION, SESSIONS
from consent.models import Follower, InboundSeen
from fakes.fediverse import fixed_key, mastodon_follow
from support.inbox import CITY, audit, instances, mastodon, network, stadt  # noqa: F401


async def _refused(client, status, reason, body):
    assert body == {"error": reason}, body
    [entry] = await audit(client, "inbound.rejected")
    assert entry.reason == reason and entry.outcome == "denied" and entry.details == {"status": status}
    return entry


async def _nothing_stored(client):
    async with client.app[SESSIONS]() as session:
        assert await session.scalar(select(func.count()).select_from(Follower)) == 0
        assert await session.scalar(select(func.count()).select_from(InboundSeen)) == 0


async def test_unsigned_request_is_refused_with_401(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice,
                                                headers={"Content-Type": "application/activity+json"})
    assert status == 401
    entry = await _refused(stadt, 401, "no_signature", body)
    assert entry.actor_ref == "domain:unknown"
    await _nothing_stored(stadt)


async def test_malformed_signature_is_refused_with_400(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    headers = {"Signature": 'keyId="http://mastodon.test/users/alice#main-key",signature="not base64!"',
               "Date": "x", "Content-Type": "application/activity+json"}
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice, headers=headers)
    assert status == 400
    entry = await _refused(stadt, 400, "malformed_signature", body)
    assert entry.actor_ref == "domain:mastodon.test"


async def test_body_that_does_not_match_the_digest_is_refused(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice, digest_of=b"{}")
    assert status == 400
    await _refused(stadt, 400, "bad_digest", body)
    await _nothing_stored(stadt)


@pytest.mark.parametrize("shift", [timedelta(hours=-2), timedelta(hours=2)])
async def test_stale_or_future_dated_request_is_refused(stadt, mastodon, shift):
    alice = mastodon.add_actor("alice")
    date = datetime.now(timezone.utc) + shift
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice, date=date)
    assert status == 401
    await _refused(stadt, 401, "expired", body)


async def test_replayed_request_from_hours_ago_is_refused_even_with_a_valid_signature(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    follow = mastodon_follow(alice, CITY)
    url = str(stadt.make_url("/inbox"))
    body = json.dumps(follow).encode()
    recorded = mastodon.signed_headers(alice, url, body, date=datetime.now(timezone.utc) - timedelta(hours=3))
    status, answer = await mastodon.sign_and_post(stadt, follow, alice, body=body, headers=recorded)
    assert (status, answer) == (401, {"error": "expired"})
    await _nothing_stored(stadt)


async def test_signature_by_another_key_is_refused(stadt, mastodon):
    alice = mastodon.add_actor("alice", key_index=0)
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice, key=fixed_key(1))
    assert status == 401
    await _refused(stadt, 401, "invalid_signature", body)


async def test_activity_whose_actor_is_not_the_key_owner_is_refused(stadt, mastodon):
    alice, bob = mastodon.add_actor("alice", key_index=0), mastodon.add_actor("bob", key_index=1)
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(bob, CITY), alice)
    assert status == 401
    await _refused(stadt, 401, "actor_mismatch", body)
    await _nothing_stored(stadt)


async def test_key_that_cannot_be_fetched_is_refused(stadt, mastodon):
    ghost = mastodon.add_actor("ghost")
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(ghost, CITY), ghost,
                                                key_id="http://mastodon.test/users/nobody#main-key")
    assert status == 401
    await _refused(stadt, 401, "key_fetch_failed", body)


async def test_signature_fails_then_the_rotated_key_is_fetched_once(stadt, mastodon):
    alice = mastodon.add_actor("alice", key_index=0)
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice))[0] == 202
    keys = stadt.app[FEDERATION].keys
    keys._clock = lambda real=keys._clock: real() + 600  # the cached key is older than the refetch interval
    alice.key = fixed_key(1)  # the account rotated its key
    status, _ = await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY, number=2), alice)
    assert status == 202
    fetches = keys.fetch_count
    bad = fixed_key(0)
    for number in range(3, 6):  # a flood of bad signatures costs no further fetch (throttled)
        assert (await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY, number), alice, key=bad))[0] == 401
    assert keys.fetch_count == fetches


async def test_oversized_body_is_refused_with_413_before_verification(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    follow = {**mastodon_follow(alice, CITY), "padding": "x" * (1024 * 1024)}
    status, body = await mastodon.sign_and_post(stadt, follow, alice)
    assert status == 413
    await _refused(stadt, 413, "too_large", body)
    assert stadt.app[FEDERATION].keys.fetch_count == 0


async def test_deeply_nested_json_is_refused_with_400(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    nested: dict = {"type": "Note"}
    for _ in range(200):
        nested = {"object": nested}
    status, body = await mastodon.sign_and_post(stadt, {**mastodon_follow(alice, CITY), "x": nested}, alice)
    assert status == 400
    await _refused(stadt, 400, "too_deep", body)
    assert stadt.app[FEDERATION].keys.fetch_count == 0


@pytest.mark.parametrize("raw, reason", [(b"{not json", "invalid_json"), (b"[1, 2]", "not_an_object")])
async def test_invalid_json_is_refused_with_400(stadt, mastodon, raw, reason):
    alice = mastodon.add_actor("alice")
    status, body = await mastodon.sign_and_post(stadt, None, alice, body=raw)
    assert (status, body) == (400, {"error": reason})


async def test_inbox_of_an_unknown_account_answers_404_as_json(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice,
                                                path="/users/nobody/inbox")
    assert (status, body) == (404, {"error": "unknown_local_actor"})


async def test_follow_of_an_account_we_do_not_have_answers_404(stadt, mastodon):
    alice = mastodon.add_actor("alice")
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(alice, "http://stadt.test/users/nobody"),
                                                alice)
    assert (status, body) == (404, {"error": "unknown_local_actor"})
    await _nothing_stored(stadt)


async def test_a_get_on_the_inbox_is_not_an_html_error_page(stadt):
    response = await stadt.get("/inbox")
    assert response.status == 405
