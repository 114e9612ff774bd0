"""RFC 9421 verification: the RFC's own rsa-v1_5-sha256 example and requests signed by http-message-signatures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest
from ap_helpers import RecordingKeys
from cryptography.hazmat.primitives import serialization
from http_message_signatures import HTTPMessageSigner, algorithms

from activitypub.keycache import RemoteKey
from activitypub.signatures import RejectReason, Rejected, SignatureScheme, Verified, verify_request

# RFC 9421 Appendix B.1.1 "test-key-rsa" (public half) and the §4.3 request after the proxy added its
# rsa-v1_5-sha256 signature `proxy_sig` next to the client's ECDSA `sig1`.
TEST_KEY_RSA = """-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsPBRrw
WEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsdJKFq
MGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75jfZg
kne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKIlE0P
uKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZSFlQ
PSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQAB
-----END RSA PUBLIC KEY-----
"""
RFC_BODY = b'{"hello": "world"}'
RFC_HEADERS = {
    "Host": "origin.host.internal.example",
    "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
    "Content-Type": "application/json",
    "Content-Length": "18",
    "Forwarded": "for=192.0.2.123;host=example.com;proto=https",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
    "Signature-Input": 'sig1=("@method" "@authority" "@path" "content-digest" "content-type" "content-length")'
    ';created=1618884475;keyid="test-key-ecc-p256", '
    'proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" "content-length" "forwarded")'
    ';created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540',
    "Signature": "sig1=:X5spyd6CFnAG5QnDyHfqoSNICd+BUP4LYMz2Q0JXlb//4Ijpzp+kve2w4NIyqeAuM7jTDX+sNalzA8ESSaHD3A==:, "
    "proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHgxtRPz+MjniOaYmdkDc"
    "nL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7s"
    "FnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowt"
    "znbLVdp770I6VHR6WfgS9ddzirrswsE1w5o0LV/g==:",
}
RFC_NOW = datetime.fromtimestamp(1618884500, tz=timezone.utc)


def rfc_keys() -> RecordingKeys:
    pem = serialization.load_pem_public_key(TEST_KEY_RSA.encode()).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return RecordingKeys({"test-key-rsa": RemoteKey("test-key-rsa", "https://example.com/proxy", pem)})


async def test_rfc9421_section_4_3_rsa_v1_5_sha256_example_verifies():
    keys = rfc_keys()
    result = await verify_request("POST", "/foo?param=Value&Pet=dog", RFC_HEADERS, RFC_BODY, keys, now=RFC_NOW)
    assert isinstance(result, Verified), result
    assert result.scheme is SignatureScheme.RFC9421
    assert result.key_id == "test-key-rsa"
    assert keys.calls == ["test-key-rsa"]


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"Forwarded": "for=192.0.2.1;host=example.com;proto=https"}, RejectReason.INVALID_SIGNATURE),
        ({"Host": "example.net"}, RejectReason.INVALID_SIGNATURE),
        ({"Content-Digest": "sha-512=:AAAA:"}, RejectReason.BAD_DIGEST),
    ],
)
async def test_rfc9421_example_mutations_are_rejected(change, reason):
    headers = RFC_HEADERS | change
    result = await verify_request("POST", "/foo", headers, RFC_BODY, rfc_keys(), now=RFC_NOW)
    assert isinstance(result, Rejected) and result.reason is reason, result


async def test_rfc9421_example_is_expired_an_hour_later():
    later = datetime.fromtimestamp(1618884540 + 3700, tz=timezone.utc)
    result = await verify_request("POST", "/foo", RFC_HEADERS, RFC_BODY, rfc_keys(), now=later)
    assert isinstance(result, Rejected) and result.reason is RejectReason.EXPIRED


# ---- requests signed with the http-message-signatures library, as a Mastodon 4.5 / Fedify peer would

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
KEY_ID = "https://fedify.example/users/carol#main-key"
OWNER = "https://fedify.example/users/carol"
BODY = b'{"type":"Like","actor":"https://fedify.example/users/carol"}'


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


class Resolver:
    def __init__(self, pem: str) -> None:
        self.key = serialization.load_pem_private_key(pem.encode(), password=None)

    def resolve_private_key(self, key_id: str):
        return self.key

    def resolve_public_key(self, key_id: str):
        return self.key.public_key()


def library_signed(pem: str, components=("@method", "@target-uri"), body: bytes | None = BODY, alg=True) -> dict:
    request = Request("POST", "https://city.example/users/stadt/inbox", {"Content-Type": "application/activity+json"})
    signer = HTTPMessageSigner(signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=Resolver(pem))
    signer.sign(request, key_id=KEY_ID, created=NOW, covered_component_ids=components, body=body, include_alg=alg)
    return request.headers | {"Host": "city.example"}


@pytest.fixture
def keys(public_pem):
    return RecordingKeys({KEY_ID: RemoteKey(KEY_ID, OWNER, public_pem)})


async def test_request_signed_by_the_library_verifies(private_pem, keys):
    headers = library_signed(private_pem)
    assert "content-digest" in headers["Signature-Input"]
    result = await verify_request("POST", "/users/stadt/inbox", headers, BODY, keys, now=NOW)
    assert isinstance(result, Verified), result
    assert result.owner == OWNER and "@target-uri" in result.covered


async def test_library_signature_without_alg_parameter_verifies(private_pem, keys):
    headers = library_signed(private_pem, alg=False)
    assert isinstance(await verify_request("POST", "/users/stadt/inbox", headers, BODY, keys, now=NOW), Verified)


async def test_library_signature_on_other_path_is_invalid(private_pem, keys):
    result = await verify_request("POST", "/inbox", library_signed(private_pem), BODY, keys, now=NOW)
    assert isinstance(result, Rejected) and result.reason is RejectReason.INVALID_SIGNATURE


async def test_library_signature_with_changed_body_is_bad_digest(private_pem, keys):
    result = await verify_request("POST", "/users/stadt/inbox", library_signed(private_pem), BODY + b"x", keys, now=NOW)
    assert isinstance(result, Rejected) and result.reason is RejectReason.BAD_DIGEST
    assert keys.calls == []


async def test_post_without_covered_content_digest_is_missing_digest(private_pem, keys):
    headers = library_signed(private_pem, body=None)
    result = await verify_request("POST", "/users/stadt/inbox", headers, BODY, keys, now=NOW)
    assert isinstance(result, Rejected) and result.reason is RejectReason.MISSING_DIGEST


async def test_signature_not_covering_the_target_is_insufficient(private_pem, keys):
    headers = library_signed(private_pem, components=("@method",))
    result = await verify_request("POST", "/users/stadt/inbox", headers, BODY, keys, now=NOW)
    assert isinstance(result, Rejected) and result.reason is RejectReason.INSUFFICIENT_COVERAGE


async def test_ed25519_signature_is_unsupported(keys):
    headers = {
        "Host": "city.example",
        "Signature-Input": 'sig1=("@method" "@target-uri");created=1740830400;keyid="k";alg="ed25519"',
        "Signature": "sig1=:AAAA:",
    }
    result = await verify_request("GET", "/users/stadt", headers, b"", keys, now=NOW)
    assert isinstance(result, Rejected) and result.reason is RejectReason.UNSUPPORTED_ALGORITHM
    assert result.status == 401  # so a double-knocking sender falls back to draft-cavage


async def test_garbled_signature_input_is_malformed(keys):
    headers = {"Host": "city.example", "Signature-Input": "sig1=((", "Signature": "sig1=:AAAA:"}
    result = await verify_request("POST", "/inbox", headers, BODY, keys, now=NOW)
    assert isinstance(result, Rejected) and result.reason is RejectReason.MALFORMED_SIGNATURE
    assert result.status == 400
