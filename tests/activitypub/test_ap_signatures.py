"""HTTP signatures: a known-good signature, then one mutation per rejection reason."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import given, settings
from hypothesis import strategies as st

from activitypub import cavage
from activitypub.keycache import RemoteKey
from activitypub.signatures import (
    RejectReason,
    Rejected,
    SignatureScheme,
    Signer,
    Verified,
    check_actor,
    sign_request,
    verify_request,
)

from ap_helpers import RecordingKeys

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
ACTOR = "https://mastodon.example/users/alice"
KEY_ID = ACTOR + "#main-key"
INBOX = "https://city.example/users/stadt/inbox"
BODY = b'{"type":"Follow","actor":"https://mastodon.example/users/alice"}'


@pytest.fixture
def signer(private_pem: str) -> Signer:
    return Signer.from_pem(KEY_ID, private_pem)


@pytest.fixture
def keys(public_pem: str) -> RecordingKeys:
    return RecordingKeys({KEY_ID: RemoteKey(KEY_ID, ACTOR, public_pem)})


def signed_post(signer: Signer, body: bytes = BODY, now: datetime = NOW, url: str = INBOX) -> dict[str, str]:
    return sign_request(signer, "POST", url, body, now=now)


async def verify(headers, keys, body=BODY, method="POST", path="/users/stadt/inbox", now=NOW):
    return await verify_request(method, path, headers, body, keys, now=now)


async def test_known_good_post_signature_verifies(signer, keys):
    result = await verify(signed_post(signer), keys)
    assert isinstance(result, Verified)
    assert result.owner == ACTOR
    assert result.scheme is SignatureScheme.DRAFT_CAVAGE
    assert result.covered == ("(request-target)", "host", "date", "digest", "content-type")


async def test_signed_get_verifies(signer, keys):
    headers = sign_request(signer, "GET", "https://city.example/users/stadt?page=1", now=NOW)
    assert "Digest" not in headers
    result = await verify(headers, keys, body=b"", method="GET", path="/users/stadt?page=1")
    assert isinstance(result, Verified)


async def test_authorization_header_form_is_accepted(signer, keys):
    headers = signed_post(signer)
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    assert isinstance(await verify(headers, keys), Verified)


async def test_path_signed_without_query_is_accepted(signer, keys):
    headers = sign_request(signer, "POST", "https://city.example/inbox", BODY, now=NOW)
    assert isinstance(await verify(headers, keys, path="/inbox?x=1"), Verified)


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda h: h.pop("Signature"), RejectReason.NO_SIGNATURE),
        (lambda h: h.update(Signature="keyId=oops"), RejectReason.MALFORMED_SIGNATURE),
        (lambda h: h.update(Signature=h["Signature"].replace("rsa-sha256", "hmac-sha256")), RejectReason.UNSUPPORTED_ALGORITHM),
        (lambda h: h.update({"Content-Type": "text/plain"}), RejectReason.INVALID_SIGNATURE),
        (lambda h: h.update(Host="evil.example"), RejectReason.INVALID_SIGNATURE),
        (lambda h: h.update(Date="Sat, 01 Mar 2025 12:00:01 GMT"), RejectReason.INVALID_SIGNATURE),
        (lambda h: h.update(Date="Sat, 01 Mar 2025 09:00:00 GMT"), RejectReason.EXPIRED),
        (lambda h: h.pop("Digest"), RejectReason.MISSING_DIGEST),
        (lambda h: h.update(Digest="SHA-256=" + base64.b64encode(b"x" * 32).decode()), RejectReason.BAD_DIGEST),
        (lambda h: h.update(Digest="MD5=AAAA"), RejectReason.BAD_DIGEST),
        (lambda h: h.update(Signature=h["Signature"].replace(KEY_ID, ACTOR + "#other-key")), RejectReason.KEY_FETCH_FAILED),
    ],
)
async def test_each_mutation_is_rejected_with_its_reason(signer, keys, mutate, reason):
    headers = signed_post(signer)
    mutate(headers)
    result = await verify(headers, keys)
    assert isinstance(result, Rejected)
    assert result.reason is reason, result.description
    assert result.status in (400, 401)


async def test_changed_body_is_rejected_before_any_key_fetch(signer, keys):
    result = await verify(signed_post(signer), keys, body=BODY + b" ")
    assert isinstance(result, Rejected) and result.reason is RejectReason.BAD_DIGEST
    assert result.status == 400
    assert keys.calls == []


@pytest.mark.parametrize("offset, ok", [(timedelta(minutes=59), True), (timedelta(minutes=-59), True),
                                        (timedelta(minutes=61), False), (timedelta(minutes=-61), False)])
async def test_date_window_is_one_hour_each_way(signer, keys, offset, ok):
    result = await verify(signed_post(signer, now=NOW + offset), keys)
    assert isinstance(result, Verified) is ok


async def test_post_without_signed_digest_is_rejected(private_pem, keys):
    signer = Signer.from_pem(KEY_ID, private_pem)
    headers = {"Host": "city.example", "Date": cavage.http_date(NOW), "Digest": "SHA-256=x"}
    names = ("(request-target)", "host", "date")
    text = cavage.signing_string("post", "/users/stadt/inbox", {k.lower(): v for k, v in headers.items()}, names)
    headers["Signature"] = cavage.format_signature(KEY_ID, names, cavage.rsa_sign(signer.private_key, text))
    result = await verify(headers, keys)
    assert isinstance(result, Rejected) and result.reason is RejectReason.MISSING_DIGEST


async def test_get_without_signed_host_is_rejected(signer, keys):
    headers = {"Date": cavage.http_date(NOW)}
    names = ("(request-target)", "date")
    text = cavage.signing_string("get", "/x", {"date": headers["Date"]}, names)
    headers["Signature"] = cavage.format_signature(KEY_ID, names, cavage.rsa_sign(signer.private_key, text))
    result = await verify(headers, keys, body=b"", method="GET", path="/x")
    assert isinstance(result, Rejected) and result.reason is RejectReason.INSUFFICIENT_COVERAGE


async def test_signature_by_another_key_is_invalid(other_private_pem, keys):
    headers = signed_post(Signer.from_pem(KEY_ID, other_private_pem))
    result = await verify(headers, keys)
    assert isinstance(result, Rejected) and result.reason is RejectReason.INVALID_SIGNATURE
    assert result.status == 401


async def test_gotosocial_key_id_without_fragment(private_pem, public_pem):
    key_id = "https://gts.example/users/bob/main-key"
    keys = RecordingKeys({key_id: RemoteKey(key_id, "https://gts.example/users/bob", public_pem)})
    result = await verify(signed_post(Signer.from_pem(key_id, private_pem)), keys)
    assert isinstance(result, Verified) and result.owner == "https://gts.example/users/bob"


async def test_actor_must_be_key_owner(signer, keys):
    verified = await verify(signed_post(signer), keys)
    assert isinstance(verified, Verified)
    assert check_actor(verified, ACTOR) is verified
    assert check_actor(verified, {"id": ACTOR, "type": "Person"}) is verified
    mismatch = check_actor(verified, "https://mastodon.example/users/mallory")
    assert isinstance(mismatch, Rejected) and mismatch.reason is RejectReason.ACTOR_MISMATCH
    assert check_actor(verified, "https://mastodon.example/users/mallory", allow_same_origin=True) is verified
    other_origin = check_actor(verified, "https://evil.example/users/alice", allow_same_origin=True)
    assert isinstance(other_origin, Rejected)
    assert isinstance(check_actor(verified, None), Rejected)


def test_our_signature_verifies_with_raw_cryptography(signer, public_pem):
    """Interop: rebuild the signing string by hand, as a Mastodon would, and check it independently."""
    headers = signed_post(signer)
    assert headers["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    params = dict(part.split("=", 1) for part in headers["Signature"].split(","))
    params = {k: v.strip('"') for k, v in params.items()}
    assert params["algorithm"] == "rsa-sha256" and params["keyId"] == KEY_ID
    assert params["headers"] == "(request-target) host date digest content-type"
    text = (
        "(request-target): post /users/stadt/inbox\n"
        f"host: city.example\ndate: {headers['Date']}\ndigest: {headers['Digest']}\n"
        "content-type: application/activity+json"
    )
    key = serialization.load_pem_public_key(public_pem.encode())
    key.verify(base64.b64decode(params["signature"]), text.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert headers["Date"] == "Sat, 01 Mar 2025 12:00:00 GMT"


# draft-cavage-http-signatures-12 Appendix C: the published 1024-bit "Test" key and C.3 "All Headers".
CAVAGE_TEST_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
"""
CAVAGE_C3_SIGNATURE = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01"
    "IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)


async def test_draft_cavage_appendix_c3_vector_verifies():
    headers = {
        "Host": "example.com",
        "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
        "Content-Type": "application/json",
        "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
        "Content-Length": "18",
        "Signature": 'keyId="Test",algorithm="rsa-sha256",'
        'headers="(request-target) host date content-type digest content-length",'
        f'signature="{CAVAGE_C3_SIGNATURE}"',
    }
    keys = RecordingKeys({"Test": RemoteKey("Test", "https://example.com/actor", CAVAGE_TEST_PUBLIC)})
    now = datetime(2014, 1, 5, 21, 40, tzinfo=timezone.utc)
    result = await verify_request("POST", "/foo?param=value&pet=dog", headers, b'{"hello": "world"}', keys, now=now)
    assert isinstance(result, Verified), result
    tampered = await verify_request("POST", "/foo?param=value&pet=cat", headers, b'{"hello": "world"}', keys, now=now)
    assert isinstance(tampered, Rejected) and tampered.reason is RejectReason.INVALID_SIGNATURE


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_cavage_parser_raises_only_its_own_error(text):
    try:
        cavage.parse_signature(text)
    except cavage.MalformedSignature:
        pass


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["Signature", "Signature-Input", "Date", "Digest", "Host", "Authorization",
                                        "Content-Digest"]), st.text(max_size=120)), st.binary(max_size=64))
async def test_verify_request_on_arbitrary_headers_returns_a_typed_result(headers, body):
    keys = RecordingKeys({})
    result = await verify_request("POST", "/inbox", headers, body, keys, now=NOW)
    assert isinstance(result, Rejected)


def test_cavage_parser_reads_escaped_quotes_and_refuses_an_unterminated_value():
    signature = base64.b64encode(b"s" * 256).decode()
    parsed = cavage.parse_signature(f'keyId="https://a.example/u/x#k\\"1", headers="host date",'
                                    f' signature="{signature}"')
    assert parsed.key_id == 'https://a.example/u/x#k"1' and parsed.headers == ("host", "date")
    with pytest.raises(cavage.MalformedSignature):  # a peer's long unterminated value: refused, not backtracked
        cavage.parse_signature('keyId="' + "a\\\\" * 20000 + f',signature="{signature}"')
