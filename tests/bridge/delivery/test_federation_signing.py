"""The federation object owns the processes that sign deliveries, replaces them if they die, and closes them."""

from __future__ import annotations

import os
import signal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from activitypub import cavage
from activitypub.signing import Signer
from bridge.runtime.federation import open_federation

PEM = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
SIGNER = Signer.from_pem("https://city.example/users/stadt#main-key", PEM)


def _valid(headers: dict[str, str], url_path: str) -> bool:
    parsed = cavage.parse_signature(headers["Signature"])
    text = cavage.signing_string("POST", url_path, {k.lower(): v for k, v in headers.items()}, parsed.headers)
    return cavage.rsa_verify(SIGNER.private_key.public_key(), parsed.signature, text)


async def test_the_signing_process_signs_for_the_federation_and_is_shut_down_on_close(config):
    federation = await open_federation(config, b"k" * 32)
    assert federation.signing is not None and federation.signing_processes == 1
    signed = await federation.sign_posts([(SIGNER, "https://a.example/inbox", b"{}")], "application/activity+json")
    assert _valid(signed[0], "/inbox")
    pool = federation.signing
    await federation.close()
    assert federation.signing is None and not pool._processes  # its process has ended


async def test_no_signing_process_when_asked_for_none_and_signing_still_works(config):
    federation = await open_federation(config, b"k" * 32, signing_processes=0)
    assert federation.signing is None
    signed = await federation.sign_posts([(SIGNER, "https://a.example/inbox", b"{}")], "application/activity+json")
    assert _valid(signed[0], "/inbox")
    await federation.close()


async def test_the_configured_number_of_processes_is_used_and_the_old_key_still_counts(make_config):
    none = await open_federation(make_config(federation={"signing_processes": 0}), b"k" * 32)
    two = await open_federation(make_config(federation={"signing_processes": 2}), b"k" * 32)
    old = await open_federation(make_config(federation={"signing_threads": 0}), b"k" * 32)
    assert none.signing is None and two.signing is not None and two.signing_processes == 2
    assert old.signing is None
    for federation in (none, two, old):
        await federation.close()


def _kill(federation) -> set[int]:
    killed = set(federation.signing._processes)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    return killed


async def test_a_killed_signing_process_loses_no_signature_and_is_replaced(config):
    federation = await open_federation(config, b"k" * 32)
    federation.signing_restart_seconds = 0
    requests = [(SIGNER, f"https://h{i}.example/inbox", b'{"n":%d}' % i) for i in range(5)]
    await federation.sign_posts(requests[:1], "application/activity+json")  # starts the process
    killed = _kill(federation)
    signed = await federation.sign_posts(requests, "application/activity+json")
    assert all(_valid(headers, "/inbox") for headers in signed) and len(signed) == 5
    again = await federation.sign_posts(requests, "application/activity+json")  # by a new process
    assert all(_valid(headers, "/inbox") for headers in again)
    assert federation.signing._processes and not set(federation.signing._processes) & killed
    await federation.close()


async def test_a_dead_signing_process_is_not_restarted_for_every_chunk(config):
    federation = await open_federation(config, b"k" * 32)  # restarts after a minute
    requests = [(SIGNER, f"https://h{i}.example/inbox", b'{"n":%d}' % i) for i in range(3)]
    await federation.sign_posts(requests, "application/activity+json")
    _kill(federation)
    for _ in range(5):
        signed = await federation.sign_posts(requests, "application/activity+json")
        assert all(_valid(headers, "/inbox") for headers in signed)
    assert federation.signing is None  # signing here meanwhile, no new process started
    await federation.close()
