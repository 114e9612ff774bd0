"""Keyed-hash pseudonyms and identifier normalisation."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.pseudonyms import Pseudonymizer, Purpose, normalize_identifier, pseudonym

SECRET = bytes(range(32))


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("https://social.example/users/Alice", "https://social.example/users/Alice"),
        ("HTTPS://Social.EXAMPLE:443/users/Alice", "https://social.example/users/Alice"),
        ("https://social.example/users/Alice#main-key", "https://social.example/users/Alice"),
        ("  https://social.example/users/Alice  ", "https://social.example/users/Alice"),
        ("http://social.example:80/u/1", "http://social.example/u/1"),
        ("https://social.example:8443/u/1", "https://social.example:8443/u/1"),
        ("https://social.example", "https://social.example/"),
        ("https://social.example./u/1", "https://social.example/u/1"),
        ("https://münchen.example/u/1", "https://xn--mnchen-3ya.example/u/1"),
        ("@Alice@Social.Example", "acct:alice@social.example"),
        ("acct:alice@social.example", "acct:alice@social.example"),
        ("ACCT:Alice@SOCIAL.example", "acct:alice@social.example"),
        ("alice@social.example", "acct:alice@social.example"),
        ("alice@localhost:3000", "acct:alice@localhost:3000"),
        ("did:plc:ewvi7nxzyoun6zhxrhs64oiz", "did:plc:ewvi7nxzyoun6zhxrhs64oiz"),
        ("Facebook:12345", "facebook:12345"),
    ],
)
def test_normalisation(raw, normal):
    assert normalize_identifier(raw) == normal


@pytest.mark.parametrize("bad", ["", "   ", "two words", "no-scheme", "@nohost", "https://", "https://u:p@h.example/"])
def test_unusable_identifiers_are_refused(bad):
    with pytest.raises(ValueError):
        normalize_identifier(bad)


def test_same_person_same_pseudonym_across_spellings():
    p = Pseudonymizer(SECRET)
    spellings = ["@Alice@Social.Example", "acct:alice@social.example", "alice@SOCIAL.EXAMPLE"]
    assert len({p.pseudonym(Purpose.SUBJECT, s) for s in spellings}) == 1
    uris = ["https://social.example/users/alice", "HTTPS://SOCIAL.EXAMPLE:443/users/alice#main-key"]
    assert len({p.pseudonym(Purpose.SUBJECT, u) for u in uris}) == 1


def test_pseudonym_form_and_stability():
    value = pseudonym(SECRET, "subject", "https://social.example/users/alice")
    assert re.fullmatch(r"[a-z2-7]{32}", value)
    # Pinned: HMAC-SHA-256(secret, b"stadtbote/pseudonym/v1\x00subject\x00" + uri)[:20], base32. A change of
    # the construction would orphan every stored pseudonym, so it must be noticed.
    assert value == "mrngc6lqjyisftlsqrxwoxlj2x3sv4f2"


def test_purposes_and_secrets_separate_domains():
    uri = "https://social.example/users/alice"
    assert pseudonym(SECRET, Purpose.SUBJECT, uri) != pseudonym(SECRET, Purpose.CLIENT, uri)
    assert pseudonym(SECRET, "subject", uri) != pseudonym(bytes(32), "subject", uri)


def test_secret_and_purpose_are_checked_and_secret_stays_hidden():
    with pytest.raises(ValueError):
        Pseudonymizer(b"short")
    with pytest.raises(ValueError):
        pseudonym(SECRET, "Not A Purpose", "acct:a@b.example")
    assert SECRET.hex() not in repr(Pseudonymizer(SECRET)) and "secret" not in repr(Pseudonymizer(SECRET))


@given(st.from_regex(r"[a-z0-9_]{1,12}", fullmatch=True), st.from_regex(r"[a-z0-9]{1,10}\.[a-z]{2,5}", fullmatch=True))
def test_handle_case_never_changes_the_pseudonym(user, host):
    a = pseudonym(SECRET, "subject", f"@{user}@{host}")
    b = pseudonym(SECRET, "subject", f"acct:{user.upper()}@{host.upper()}")
    assert a == b
