"""`stadtbote keys rotate`: a new key for an account, followers' servers told by an `Update` of the actor,
and everything after signed with the new key, also by a process that loaded the old one."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from activitypub.cavage import parse_signature, rsa_verify, signing_string
from activitypub.signing import load_public_key
from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.auth.users import find_user
from bridge.delivery.domain_blocks import BlockReason, block
from bridge.operations.keys import RotateReason, fingerprint, rotate_key
from bridge.publishing import posts
from bridge.publishing.posts import Draft
from bridge.store.db import utcnow
from bridge.store.models import Actor, Job, Role
from fakes.fediverse import mastodon_follow, signed_by
from support.inbox import CITY, audit, instances, network, run_jobs, stadt  # noqa: F401
from testkit import add_user, write_config

KEY_ID = CITY + "#main-key"


@pytest.fixture
async def editor(stadt, test_password_hash):
    async with stadt.app[SESSIONS].begin() as s:
        await add_user(s, "erika", Role.EDITOR, ["stadt"], test_password_hash)


async def public_key(stadt, name: str = "stadt") -> str:
    async with stadt.app[SESSIONS]() as s:
        return await s.scalar(select(Actor.public_key_pem).where(Actor.name == name))


async def rotate(stadt, name: str = "stadt"):
    # As `stadtbote keys rotate` does it from another process: nothing tells this app's signers.
    async with stadt.app[SESSIONS].begin() as s:
        return await rotate_key(s, stadt.app[CONFIG], name)


async def publish(stadt, text: str) -> None:
    async with stadt.app[SESSIONS].begin() as s:
        result = await posts.create_post(s, stadt.app[CONFIG], await find_user(s, "erika"), Draft("stadt", text))
        assert result.ok, result.reason


async def followed_by(stadt, instance, *names: str) -> None:
    for name in names:
        actor = instance.add_actor(name)
        assert (await instance.sign_and_post(stadt, mastodon_follow(actor, CITY), actor))[0] == 202
    await run_jobs(stadt)  # the Accepts: the follower's server fetches our key and caches it


async def test_followers_get_the_update_signed_with_the_new_key_and_later_posts_verify(stadt, instances, editor):
    mastodon = await instances("mastodon.test")
    gts = await instances("gts.test", software="gotosocial")  # no shared inbox: one Update per follower
    mastodon.key_cache, gts.key_cache = {}, {}
    await followed_by(stadt, mastodon, "alice", "bob")
    await followed_by(stadt, gts, "dora")
    old = await public_key(stadt)
    assert mastodon.key_cache == {KEY_ID: old}
    fetches = len(mastodon.key_fetches)  # one, or two when both Accepts arrived before either fetch ended
    assert stadt.app[FEDERATION]._signers["stadt"].pem  # this process holds the old key already
    mastodon.received.clear()
    gts.received.clear()

    rotation = await rotate(stadt)
    await run_jobs(stadt)

    new = await public_key(stadt)
    assert rotation.ok and new != old
    assert (rotation.old_fingerprint, rotation.new_fingerprint) == (fingerprint(old), fingerprint(new))
    assert [(r.path, r.json["type"]) for r in mastodon.received] == [("/inbox", "Update")]  # one per server
    assert [(r.path, r.json["type"]) for r in gts.received] == [("/users/dora/inbox", "Update")]
    for server in (mastodon, gts):
        update = server.received[0]
        assert update.verified and update.key_id == KEY_ID
        assert signed_by(new, update) and not signed_by(old, update)
        assert update.json["actor"] == CITY and update.json["object"]["id"] == CITY
        assert update.json["object"]["type"] == "Organization"
        assert update.json["object"]["publicKey"] == {"id": KEY_ID, "owner": CITY, "publicKeyPem": new}
    # The cached key failed, so the server fetched the actor once more, as Mastodon does.
    assert mastodon.key_fetches[fetches:] == [KEY_ID] and mastodon.key_cache == {KEY_ID: new}

    mastodon.received.clear()
    gts.received.clear()
    await publish(stadt, "Nach dem Schlüsselwechsel")
    await run_jobs(stadt)
    assert [r.json["type"] for r in mastodon.received] == ["Create"]
    assert [r.json["type"] for r in gts.received] == ["Create"]
    for received in mastodon.received + gts.received:
        assert received.verified and signed_by(new, received) and not signed_by(old, received)
    assert len(mastodon.key_fetches) == fetches + 1  # the cached new key verified it: no further fetch


async def test_a_rotation_by_the_command_in_another_process_is_used_by_the_running_server(stadt, instances, editor,
                                                                                        tmp_path):
    mastodon = await instances("mastodon.test")
    mastodon.key_cache = {}
    await followed_by(stadt, mastodon, "alice")
    old = await public_key(stadt)
    config = write_config(tmp_path, stadt.app[CONFIG].database.url)
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "keys", "rotate", "--actor", "stadt", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])})
    out, err = await command.communicate()
    new = await public_key(stadt)
    assert command.returncode == 0, err
    assert out.decode().startswith(f"Rotated the key of @stadt: {fingerprint(old)} -> {fingerprint(new)}")
    mastodon.received.clear()
    await publish(stadt, "Signiert mit dem neuen Schlüssel")
    await run_jobs(stadt)  # this server loaded the old key before; it must not sign with it any more
    assert sorted(r.json["type"] for r in mastodon.received) == ["Create", "Update"]
    assert all(r.verified and signed_by(new, r) and not signed_by(old, r) for r in mastodon.received)


async def test_a_blocked_server_gets_no_update(stadt, instances):
    mastodon, spam = await instances("mastodon.test"), await instances("spam.test")
    await followed_by(stadt, mastodon, "alice")
    await followed_by(stadt, spam, "bot")
    async with stadt.app[SESSIONS].begin() as s:
        await block(s, "spam.test", BlockReason.SPAM, "user:1", "stadt.test", utcnow())
    mastodon.received.clear()
    spam.received.clear()
    await rotate(stadt)
    await run_jobs(stadt)
    assert [r.json["type"] for r in mastodon.received] == ["Update"] and spam.received == []
    async with stadt.app[SESSIONS]() as s:
        updates = (await s.scalars(select(Job).where(Job.kind == "deliver_direct"))).all()
    # Not even a delivery job that would only be refused when it runs.
    assert [j.payload["inbox"] for j in updates if j.payload["document"]["type"] == "Update"] == [
        "http://mastodon.test/inbox"]


async def test_the_audit_log_records_the_rotation_with_fingerprints_only(stadt):
    old = await public_key(stadt)
    async with stadt.app[SESSIONS]() as s:
        private = await s.scalar(select(Actor.private_key_pem).where(Actor.name == "stadt"))
    before = len(await audit(stadt, "key.created"))
    await rotate(stadt)
    new = await public_key(stadt)
    entries = await audit(stadt, "key.created")
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.subject_ref == "actor:stadt" and (entry.actor_role, entry.actor_ref) == ("admin", "cli")
    assert entry.details == {"algorithm": "rsa-2048", "fingerprint": fingerprint(new), "replaces": fingerprint(old)}
    async with stadt.app[SESSIONS]() as s:
        new_private = await s.scalar(select(Actor.private_key_pem).where(Actor.name == "stadt"))
    written = json.dumps(entry.details)
    for secret in (private, new_private, old, new):
        assert secret.split("\n")[1] not in written  # no key material, not even a line of it


async def test_rotating_with_no_followers_sends_nothing_and_the_actor_serves_the_new_key(stadt):
    await rotate(stadt)
    await run_jobs(stadt)
    async with stadt.app[SESSIONS]() as s:
        job = await s.scalar(select(Job).where(Job.kind == "actor_update"))
        assert job.last_error is None and await s.scalar(select(Job).where(Job.kind == "deliver_direct")) is None
    response = await stadt.get("/users/stadt", headers={"Accept": "application/activity+json"})
    assert (await response.json())["publicKey"]["publicKeyPem"] == await public_key(stadt)


async def test_an_unknown_account_is_refused_and_nothing_changes(stadt):
    before = await public_key(stadt, "instance.actor")
    keys_before = len(await audit(stadt, "key.created"))
    rotation = await rotate(stadt, "nobody")
    assert rotation.reason is RotateReason.UNKNOWN_ACCOUNT and not rotation.ok
    assert await public_key(stadt, "instance.actor") == before
    assert len(await audit(stadt, "key.created")) == keys_before
    async with stadt.app[SESSIONS]() as s:
        assert await s.scalar(select(Job).where(Job.kind == "actor_update")) is None


def fetch_signed_by(public_key_pem: str, path: str, headers: dict[str, str]) -> bool:
    """Whether the key of `public_key_pem` signed this GET (draft-cavage, as our fetches are signed)."""
    sig = parse_signature(headers["signature"])
    return rsa_verify(load_public_key(public_key_pem), sig.signature,
                      signing_string("get", path, headers, sig.headers, sig))


async def test_the_instance_actors_key_rotates_and_the_running_server_fetches_with_the_new_one(stadt, instances):
    mastodon = await instances("mastodon.test")
    old = await public_key(stadt, "instance.actor")
    rotation = await rotate(stadt, "instance.actor")  # as the command does it, from another process
    new = await public_key(stadt, "instance.actor")
    assert rotation.ok and new != old
    assert rotation.old_fingerprint == fingerprint(old) and rotation.new_fingerprint == fingerprint(new)
    entry = (await audit(stadt, "key.created"))[-1]
    assert entry.subject_ref == "actor:instance.actor" and entry.details["fingerprint"] == fingerprint(new)
    async with stadt.app[SESSIONS]() as s:
        assert await s.scalar(select(Job).where(Job.kind == "actor_update")) is None  # nobody follows it

    actor = mastodon.add_actor("bert")  # unknown to us: our inbox fetches bert's key, signed as the instance
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(actor, CITY), actor))[0] == 202
    fetches = [(path, headers) for path, headers in mastodon.fetch_headers if "signature" in headers]
    assert fetches, mastodon.fetched
    assert all(fetch_signed_by(new, path, headers) and not fetch_signed_by(old, path, headers)
               for path, headers in fetches)
