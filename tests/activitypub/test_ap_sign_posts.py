"""Signing many deliveries at once, here or in a signing process: the same headers either way."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from activitypub import cavage
from activitypub.signing import Signer, sign_posts, sign_request

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


KEY_PEM = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
OTHER_PEM = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _requests(n: int) -> list[tuple[Signer, str, bytes]]:
    city = Signer.from_pem("https://city.example/users/stadt#main-key", KEY_PEM)
    fire = Signer.from_pem("https://city.example/users/feuerwehr#main-key", OTHER_PEM)
    return [(city if i % 3 else fire, f"https://s{i}.example/users/u{i}/inbox", b'{"n":%d}' % i) for i in range(n)]


@pytest.fixture(scope="module")
def pool():
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor


async def test_a_signing_process_gives_each_request_its_own_signature_in_order(pool):
    requests = _requests(9)
    expected = [sign_request(signer, "POST", url, body, now=NOW) for signer, url, body in requests]
    signed = await sign_posts(requests, pool, now=NOW)
    assert signed == expected  # RSA PKCS#1 v1.5 is deterministic: same input, same signature
    assert len({h["Signature"] for h in signed}) == 9 and len({h["Digest"] for h in signed}) == 9
    assert [h["Host"] for h in signed] == [f"s{i}.example" for i in range(9)]
    # and it was the other process that signed: its pid is not ours
    assert pool.submit(os.getpid).result() != os.getpid()


async def test_each_signature_verifies_with_its_signers_public_key(pool):
    requests = _requests(4)
    for (signer, url, _), headers in zip(requests, await sign_posts(requests, pool)):
        parsed = cavage.parse_signature(headers["Signature"])
        assert parsed.key_id == signer.key_id
        lowered = {k.lower(): v for k, v in headers.items()}
        text = cavage.signing_string("POST", "/" + url.split("/", 3)[3], lowered, parsed.headers)
        assert cavage.rsa_verify(signer.private_key.public_key(), parsed.signature, text)


async def test_without_a_pool_the_caller_signs_the_same_headers(pool):
    requests = _requests(3)
    assert await sign_posts(requests, None, now=NOW) == await sign_posts(requests, pool, now=NOW)
    assert await sign_posts([], pool) == []


async def test_a_signer_without_its_pem_cannot_go_to_another_process(pool):
    bare = Signer("https://city.example/users/stadt#main-key", Signer.from_pem("k", KEY_PEM).private_key)
    with pytest.raises(ValueError, match="PEM"):
        await sign_posts([(bare, "https://a.example/inbox", b"{}")], pool)
    assert len(await sign_posts([(bare, "https://a.example/inbox", b"{}")], None)) == 1
