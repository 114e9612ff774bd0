"""The OAuth rules that need no server: PKCE per RFC 7636's own example, redirect URIs, scopes; and no input
makes them raise (a raise would be a 5xx)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from bridge.auth.oauth import AppError, OOB, parse_scopes, pkce_matches, redirect_problem

# RFC 7636 appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_the_rfc_example():
    assert pkce_matches("S256", RFC_CHALLENGE, RFC_VERIFIER)
    assert not pkce_matches("S256", RFC_CHALLENGE, RFC_VERIFIER[:-1] + "x")
    assert not pkce_matches("plain", RFC_CHALLENGE, RFC_VERIFIER)
    assert pkce_matches("plain", RFC_VERIFIER, RFC_VERIFIER)


def test_a_verifier_outside_rfc_7636s_alphabet_or_length_never_matches():
    assert not pkce_matches("plain", "a" * 42, "a" * 42)
    assert not pkce_matches("plain", "a" * 129, "a" * 129)
    assert not pkce_matches("plain", "ä" * 43, "ä" * 43)


def test_redirect_uris_as_mastodon_accepts_them():
    for fine in (OOB, "https://app.example/cb", "http://127.0.0.1:4000/cb?x=1", "tusky://oauth",
                 "oauth2redirect://com.keylesspalace.tusky/", "com.example.app:/callback"):
        assert redirect_problem(fine) is None, fine
    assert redirect_problem("/cb") is AppError.REDIRECT_RELATIVE
    assert redirect_problem("https:///cb") is AppError.REDIRECT_RELATIVE
    assert redirect_problem("JavaScript:alert(1)") is AppError.REDIRECT_FORBIDDEN
    assert redirect_problem("data:text/html,x") is AppError.REDIRECT_FORBIDDEN
    assert redirect_problem("https://app.example/cb#frag") is AppError.REDIRECT_FRAGMENT
    assert redirect_problem("https://app.example/" + "a" * 2000) is AppError.REDIRECT_TOO_LONG


def test_scopes_are_split_on_white_space_without_repeats():
    assert parse_scopes("read  write\nread push") == ["read", "write", "push"]
    assert parse_scopes(None) == [] and parse_scopes("") == []


@given(st.text())
def test_no_redirect_uri_makes_the_check_raise(text):
    assert redirect_problem(text) is None or isinstance(redirect_problem(text), AppError)


@given(st.text(), st.text(), st.sampled_from(["S256", "plain"]))
def test_no_verifier_makes_pkce_raise(challenge, verifier, method):
    assert pkce_matches(method, challenge, verifier) in (True, False)
