"""Signing many deliveries at once: the calling thread and a helper thread share the work."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric import rsa

from activitypub.signing import Signer, sign_posts, sign_request

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class CountingPool(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(1)
        self.threads: set[str] = set()

    def submit(self, fn, /, *args, **kwargs):
        def run(*a, **k):
            self.threads.add(threading.current_thread().name)
            return fn(*a, **k)
        return super().submit(run, *args, **kwargs)


def test_each_request_gets_its_own_signature_in_order_whoever_signs_it():
    city = Signer("https://city.example/users/stadt#main-key", KEY)
    fire = Signer("https://city.example/users/feuerwehr#main-key", OTHER)
    requests = [(city if i % 3 else fire, f"https://s{i}.example/users/u{i}/inbox", b'{"n":%d}' % i) for i in range(9)]
    expected = [sign_request(signer, "POST", url, body, now=NOW) for signer, url, body in requests]
    with CountingPool() as helper:
        signed = sign_posts(requests, helper, now=NOW)
    assert signed == expected  # RSA PKCS#1 v1.5 is deterministic: same input, same signature
    assert helper.threads and threading.current_thread().name not in helper.threads  # the helper took part
    assert len({h["Signature"] for h in signed}) == 9 and len({h["Digest"] for h in signed}) == 9
    assert [h["Host"] for h in signed] == [f"s{i}.example" for i in range(9)]


def test_without_a_helper_or_with_one_request_the_caller_signs_alone():
    signer = Signer("https://city.example/users/stadt#main-key", KEY)
    one = [(signer, "https://a.example/inbox", b"{}")]
    assert sign_posts(one, None, now=NOW) == [sign_request(signer, "POST", "https://a.example/inbox", b"{}", now=NOW)]
    with CountingPool() as helper:
        assert sign_posts(one, helper, now=NOW) == sign_posts(one, now=NOW)
        assert sign_posts([], helper) == []
    assert not helper.threads
