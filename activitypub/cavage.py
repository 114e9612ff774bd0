"""draft-cavage-http-signatures-12, the scheme every fediverse server speaks (written on `cryptography`,
since no maintained library exists). Parsing and signing strings only; policy lives in `signatures`."""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# keyId="…", headers="…", created=123 — quoted strings may contain escaped quotes.
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("[^"\\]*(?:\\.[^"\\]*)*"|[^,\s"]*)\s*(?:,|$)')


class MalformedSignature(ValueError):
    """The Signature header cannot be understood."""


class MissingSignedHeader(ValueError):
    """A header named in `headers=` is absent from the request."""


@dataclass(frozen=True)
class CavageSignature:
    key_id: str
    algorithm: str | None
    headers: tuple[str, ...]
    signature: bytes
    created: int | None
    expires: int | None


def parse_signature(value: str) -> CavageSignature:
    """Parse a `Signature` header value (or an `Authorization: Signature …` value without the prefix)."""
    params: dict[str, str] = {}
    position = 0
    value = value.strip()
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None or match.end() == position:
            raise MalformedSignature("unparseable Signature parameters")
        raw = match.group(2)
        params[match.group(1).lower()] = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
        position = match.end()
    if not params.get("keyid") or not params.get("signature"):
        raise MalformedSignature("keyId and signature are required")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedSignature("signature is not base64") from exc
    # draft-cavage-12 default for `headers` is "(created)"; Mastodon and most peers always send it.
    headers = tuple(params.get("headers", "(created)").lower().split())
    return CavageSignature(
        key_id=params["keyid"],
        algorithm=params.get("algorithm"),
        headers=headers,
        signature=signature,
        created=_int_param(params, "created"),
        expires=_int_param(params, "expires"),
    )


def _int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return int(float(raw))  # some implementations send created as a decimal
    except ValueError as exc:
        raise MalformedSignature(f"{name} is not a number") from exc


def signing_string(
    method: str,
    target: str,
    headers: dict[str, str],
    names: tuple[str, ...],
    sig: CavageSignature | None = None,
) -> str:
    """Build the string that is signed. `headers` must have lower-case names."""
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in ("(created)", "(expires)"):
            stamp = None if sig is None else (sig.created if name == "(created)" else sig.expires)
            if stamp is None:
                raise MissingSignedHeader(f"{name} is signed but not given")
            lines.append(f"{name}: {stamp}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise MissingSignedHeader(f"signed header {name} is absent")
    return "\n".join(lines)


def rsa_verify(public_key: rsa.RSAPublicKey, signature: bytes, data: str) -> bool:
    try:
        public_key.verify(signature, data.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):  # ValueError: signature of the wrong length
        return False
    return True


def rsa_sign(private_key: rsa.RSAPrivateKey, data: str) -> str:
    return base64.b64encode(private_key.sign(data.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def format_signature(key_id: str, names: tuple[str, ...], signature_b64: str) -> str:
    return (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",signature="{signature_b64}"'
    )


def http_date(moment: datetime) -> str:
    """RFC 7231 IMF-fixdate, as Mastodon sends in `Date`."""
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


@functools.lru_cache(maxsize=256)  # a Date header has one-second resolution: many requests share one
def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
