"""HTTP signatures: sign like Mastodon (draft-cavage), verify draft-cavage and RFC 9421.

Order of checks on an inbound request: parse → time window → coverage → body digest → key → signature.
Everything before the key fetch is local and cheap, so garbage never makes us fetch anything, and the
body is hashed before anyone parses its JSON.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric import rsa

from . import cavage, rfc9421
from .digests import DigestReason, check_content_digest, check_digest
from .keycache import KeyFetcher, KeyFetchFailed, KeyRefresher, RemoteKey
from .origins import same_origin
from .signing import GET_HEADERS, POST_HEADERS, Signer, load_private_key, load_public_key, sign_request

__all__ = [
    "GET_HEADERS", "POST_HEADERS", "RejectReason", "Rejected", "SignatureScheme", "Signer", "Verified",
    "VerifyResult", "check_actor", "load_private_key", "load_public_key", "normalize_headers", "sign_request",
    "verify_request",
]

MAX_SKEW = timedelta(hours=1)


class SignatureScheme(enum.StrEnum):
    DRAFT_CAVAGE = "draft-cavage"
    RFC9421 = "rfc9421"


class RejectReason(enum.StrEnum):
    NO_SIGNATURE = "no_signature"
    MALFORMED_SIGNATURE = "malformed_signature"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    INSUFFICIENT_COVERAGE = "insufficient_coverage"
    EXPIRED = "expired"
    MISSING_DIGEST = "missing_digest"
    BAD_DIGEST = "bad_digest"
    KEY_FETCH_FAILED = "key_fetch_failed"
    INVALID_SIGNATURE = "invalid_signature"
    ACTOR_MISMATCH = "actor_mismatch"


# 400 only where a retry cannot help; 401 where the sender may retry (re-signing, another scheme after
# Fedify-style double-knocking, a rotated key). Mastodon retries 401 and gives up on other 4xx.
_STATUS = {
    RejectReason.MALFORMED_SIGNATURE: 400,
    RejectReason.BAD_DIGEST: 400,
}


@dataclass(frozen=True)
class Verified:
    key_id: str
    owner: str
    scheme: SignatureScheme
    covered: tuple[str, ...]
    created: datetime


@dataclass(frozen=True)
class Rejected:
    reason: RejectReason
    description: str

    @property
    def status(self) -> int:
        return _STATUS.get(self.reason, 401)


VerifyResult = Verified | Rejected


@dataclass(frozen=True)
class _Candidate:
    """One parsed signature, whichever scheme it came in."""

    scheme: SignatureScheme
    key_id: str
    algorithm: str | None
    covered: tuple[str, ...]
    created: datetime | None
    expires: datetime | None
    check: Callable[[rsa.RSAPublicKey], bool]


# ---------------------------------------------------------------- verification


async def verify_request(
    method: str,
    path_with_query: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    key_fetcher: KeyFetcher,
    *,
    now: datetime | None = None,
    scheme: str = "https",
    max_skew: timedelta = MAX_SKEW,
) -> VerifyResult:
    """Verify an inbound request. `key_fetcher` should be a `KeyCache` (so a failure refetches once)."""
    lowered = normalize_headers(headers)
    candidate = _parse(method, path_with_query, lowered, scheme)
    if isinstance(candidate, Rejected):
        return candidate
    problem = (
        _check_time(candidate, now or _utcnow(), max_skew)
        or _check_coverage(candidate, method)
        or _check_body_digest(candidate, method, lowered, body)
    )
    if problem is not None:
        return problem
    return await _check_key(candidate, key_fetcher)


def normalize_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names; repeated fields joined with ", " (RFC 9110 §5.3)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        out[key] = f"{out[key]}, {value.strip()}" if key in out else value.strip()
    return out


def _parse(method: str, target: str, headers: dict[str, str], scheme: str) -> _Candidate | Rejected:
    if "signature-input" in headers and "signature" in headers:
        return _parse_rfc9421(method, target, headers, scheme)
    raw = headers.get("signature")
    authorization = headers.get("authorization", "")
    if raw is None and authorization[:10].lower() == "signature ":
        raw = authorization[10:]
    if raw is None:
        return Rejected(RejectReason.NO_SIGNATURE, "request carries no HTTP signature")
    return _parse_cavage(method, target, headers, raw)


def _parse_cavage(method: str, target: str, headers: dict[str, str], raw: str) -> _Candidate | Rejected:
    try:
        sig = cavage.parse_signature(raw)
    except cavage.MalformedSignature as exc:
        return Rejected(RejectReason.MALFORMED_SIGNATURE, str(exc))
    algorithm = (sig.algorithm or "hs2019").lower()
    if algorithm not in ("rsa-sha256", "hs2019"):
        return Rejected(RejectReason.UNSUPPORTED_ALGORITHM, f"algorithm {sig.algorithm} is not supported")
    created = _timestamp(sig.created)
    if created is None and "date" in sig.headers:
        created = cavage.parse_http_date(headers.get("date"))
    # Older senders signed the path without the query, so Mastodon and GoToSocial try both.
    targets = [target] + ([target.partition("?")[0]] if "?" in target else [])

    def check(key: rsa.RSAPublicKey) -> bool:
        for candidate_target in targets:
            try:
                text = cavage.signing_string(method, candidate_target, headers, sig.headers, sig)
            except cavage.MissingSignedHeader:
                return False
            if cavage.rsa_verify(key, sig.signature, text):
                return True
        return False

    return _Candidate(
        SignatureScheme.DRAFT_CAVAGE, sig.key_id, algorithm, sig.headers, created, _timestamp(sig.expires), check
    )


def _parse_rfc9421(method: str, target: str, headers: dict[str, str], scheme: str) -> _Candidate | Rejected:
    try:
        chosen = rfc9421.select_signature(headers["signature-input"], headers["signature"])
    except rfc9421.MalformedSignatureInput as exc:
        return Rejected(RejectReason.MALFORMED_SIGNATURE, str(exc))
    if chosen.algorithm not in (None, rfc9421.RSA_V1_5_SHA256):
        return Rejected(RejectReason.UNSUPPORTED_ALGORITHM, f"alg {chosen.algorithm} is not supported")
    url = f"{scheme}://{headers.get('host', '')}{target}"

    def check(key: rsa.RSAPublicKey) -> bool:
        return rfc9421.verify_message(chosen, key, method, url, headers)

    return _Candidate(
        SignatureScheme.RFC9421,
        chosen.key_id,
        chosen.algorithm,
        chosen.covered,
        _timestamp(chosen.created),
        _timestamp(chosen.expires),
        check,
    )


def _check_time(candidate: _Candidate, now: datetime, max_skew: timedelta) -> Rejected | None:
    if candidate.created is None:
        return Rejected(RejectReason.INSUFFICIENT_COVERAGE, "no usable signed Date or created")
    if candidate.created > now + max_skew:
        return Rejected(RejectReason.EXPIRED, "signature was created in the future")
    if candidate.created < now - max_skew:
        return Rejected(RejectReason.EXPIRED, "signature is older than the allowed window")
    if candidate.expires is not None and candidate.expires < now - max_skew:
        return Rejected(RejectReason.EXPIRED, "signature has expired")
    return None


def _check_coverage(candidate: _Candidate, method: str) -> Rejected | None:
    covered = set(candidate.covered)
    if candidate.scheme is SignatureScheme.DRAFT_CAVAGE:
        # Mastodon's strength rules (app/lib/signed_request.rb).
        if not covered & {"date", "(created)"}:
            return Rejected(RejectReason.INSUFFICIENT_COVERAGE, "date or (created) must be signed")
        if not covered & {"(request-target)", "digest"}:
            return Rejected(RejectReason.INSUFFICIENT_COVERAGE, "(request-target) or digest must be signed")
        if method.upper() in ("GET", "HEAD") and "host" not in covered:
            return Rejected(RejectReason.INSUFFICIENT_COVERAGE, "host must be signed on GET")
        return None
    # RFC 9421: the method and the full target (or authority plus path) must be covered.
    has_target = "@target-uri" in covered or (
        bool(covered & {"@authority", "host"}) and bool(covered & {"@path", "@request-target"})
    )
    if "@method" not in covered or not has_target:
        return Rejected(RejectReason.INSUFFICIENT_COVERAGE, "@method and @target-uri must be covered")
    return None


def _check_body_digest(candidate: _Candidate, method: str, headers: dict[str, str], body: bytes) -> Rejected | None:
    covered = set(candidate.covered)
    if "content-digest" in covered:
        result = check_content_digest(headers.get("content-digest"), body)
    elif "digest" in covered:
        result = check_digest(headers.get("digest"), body)
    elif method.upper() in ("GET", "HEAD") and not body:
        return None
    else:
        return Rejected(RejectReason.MISSING_DIGEST, "the body digest is not signed")
    if result.reason is DigestReason.ABSENT:
        return Rejected(RejectReason.MISSING_DIGEST, result.description)
    if not result.ok:
        return Rejected(RejectReason.BAD_DIGEST, result.description)
    return None


async def _check_key(candidate: _Candidate, key_fetcher: KeyFetcher) -> VerifyResult:
    fetched = await key_fetcher.fetch_key(candidate.key_id)
    if isinstance(fetched, KeyFetchFailed):
        return Rejected(RejectReason.KEY_FETCH_FAILED, f"{fetched.reason}: {fetched.description}")
    result = _verify_with(candidate, fetched)
    if isinstance(result, Verified) or result.reason is not RejectReason.INVALID_SIGNATURE:
        return result
    if not isinstance(key_fetcher, KeyRefresher):
        return result
    # The key may have been rotated: ask once more (throttled per key by the cache).
    refreshed = await key_fetcher.refresh_key(candidate.key_id)
    if isinstance(refreshed, RemoteKey) and refreshed.public_key_pem != fetched.public_key_pem:
        return _verify_with(candidate, refreshed)
    return result


def _verify_with(candidate: _Candidate, key: RemoteKey) -> VerifyResult:
    public_key = load_public_key(key.public_key_pem)
    if public_key is None:
        return Rejected(RejectReason.UNSUPPORTED_ALGORITHM, "the key is not an RSA public key")
    if not candidate.check(public_key):
        return Rejected(RejectReason.INVALID_SIGNATURE, "signature does not verify")
    assert candidate.created is not None  # _check_time ran first
    return Verified(key.key_id, key.owner, candidate.scheme, candidate.covered, candidate.created)


# ---------------------------------------------------------------- actor binding


def check_actor(verified: Verified, actor: object, *, allow_same_origin: bool = False) -> VerifyResult:
    """The activity's `actor` must be the key's owner (FEP-fe34); `same origin` only if allowed."""
    actor_id = actor.get("id") if isinstance(actor, dict) else actor
    if isinstance(actor_id, list) and len(actor_id) == 1:
        actor_id = actor_id[0]
    if not isinstance(actor_id, str) or not actor_id:
        return Rejected(RejectReason.ACTOR_MISMATCH, "activity has no actor")
    if actor_id == verified.owner:
        return verified
    if allow_same_origin and same_origin(actor_id, verified.owner):
        return verified
    return Rejected(RejectReason.ACTOR_MISMATCH, "activity actor is not the owner of the signing key")


def _timestamp(value: int | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
