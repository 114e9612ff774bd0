"""RFC 9421 HTTP Message Signatures (what Mastodon 4.5 verifies and Fedify sends first).

Parsing uses `http-sf`; the signature base and the RSA check are delegated to `http-message-signatures`.
Time windows are checked by `signatures` with an injectable clock, so the library's own clock checks are
switched off here.
"""

from __future__ import annotations

import datetime
import warnings
from dataclasses import dataclass

import http_sf
from cryptography.hazmat.primitives.asymmetric import rsa
from http_message_signatures import HTTPMessageVerifier, InvalidSignature, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from http_message_signatures.signatures import SignatureVerifyWarning

RSA_V1_5_SHA256 = "rsa-v1_5-sha256"


class MalformedSignatureInput(ValueError):
    """Signature-Input / Signature cannot be parsed or name no usable signature."""


@dataclass(frozen=True)
class MessageSignature:
    label: str
    key_id: str
    algorithm: str | None
    covered: tuple[str, ...]  # component names without parameters, e.g. "@method", "content-digest"
    created: int | None
    expires: int | None


@dataclass(frozen=True)
class _Message:
    method: str
    url: str
    headers: dict[str, str]


class _UnclockedVerifier(HTTPMessageVerifier):
    # Our caller enforces created/expires against its own clock; the library must not second-guess it.
    max_clock_skew = datetime.timedelta(days=365 * 100)
    allow_label_only_selection = True


class _OneKey:
    def __init__(self, key: rsa.RSAPublicKey) -> None:
        self._key = key

    def resolve_public_key(self, key_id: str) -> rsa.RSAPublicKey:
        return self._key

    def resolve_private_key(self, key_id: str) -> None:
        raise HTTPMessageSignaturesException("verification only")


def select_signature(signature_input: str, signature: str) -> MessageSignature:
    """Pick the first signature we can check (rsa-v1_5-sha256 or no `alg`) from the two headers.

    Mastodon insists on a single signature; we accept several and use the first usable one, which is
    no weaker (each is verified on its own) and lets proxy-added signatures pass.
    """
    try:
        inputs = http_sf.parse(signature_input.encode(), tltype="dictionary")
        values = http_sf.parse(signature.encode(), tltype="dictionary")
    except (ValueError, UnicodeEncodeError) as exc:
        raise MalformedSignatureInput("Signature-Input or Signature is not a structured dictionary") from exc
    candidates = [_describe(label, member) for label, member in inputs.items() if label in values]
    if not candidates:
        raise MalformedSignatureInput("no labelled signature in both Signature-Input and Signature")
    # An explicit rsa-v1_5-sha256 first, then one without `alg` (the key decides), else report the first.
    for wanted in (RSA_V1_5_SHA256, None):
        for candidate in candidates:
            if candidate.algorithm == wanted:
                return candidate
    return candidates[0]


def _describe(label: str, member: tuple) -> MessageSignature:
    items, params = member
    if not isinstance(items, list):
        raise MalformedSignatureInput(f"Signature-Input member {label} is not an inner list")
    covered = []
    for item, _item_params in items:
        if not isinstance(item, str):
            raise MalformedSignatureInput("covered component names must be strings")
        covered.append(item.lower())
    key_id = params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise MalformedSignatureInput("keyid is missing")
    algorithm = params.get("alg")
    created, expires = params.get("created"), params.get("expires")
    if any(v is not None and type(v) is not int for v in (created, expires)):
        raise MalformedSignatureInput("created and expires must be integers")
    if algorithm is not None and not isinstance(algorithm, str):
        raise MalformedSignatureInput("alg must be a string")
    return MessageSignature(label, key_id, algorithm, tuple(covered), created, expires)


def verify_message(
    chosen: MessageSignature,
    public_key: rsa.RSAPublicKey,
    method: str,
    url: str,
    headers: dict[str, str],
) -> bool:
    """Check the cryptographic signature of `chosen` over the request."""
    verifier = _UnclockedVerifier(signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=_OneKey(public_key))
    message = _Message(method.upper(), url, headers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SignatureVerifyWarning)
        try:
            verifier.verify(message, max_age=None, expect_label=chosen.label)
        except (InvalidSignature, HTTPMessageSignaturesException, ValueError):
            return False
    return True
