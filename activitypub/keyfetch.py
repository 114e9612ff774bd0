"""The default `KeyFetcher`: dereference a keyId through the guard and confirm who owns the key.

With a fragment keyId (`…/users/alice#main-key`, Mastodon) the actor document carries the key. Without
one (`…/users/bob/main-key`, GoToSocial) the URL answers with a stub; then the owner is fetched too and
must list the same key (Mastodon's key → owner → actor → key round trip).
"""

from __future__ import annotations

from dataclasses import replace
from collections.abc import Awaitable, Callable
from typing import Any

from .fetch import FetchFailed, FetchReason, fetch_document
from .guard import GuardedSession
from .keycache import KeyFetchFailed, KeyFetchReason, KeyResult, RemoteKey
from .origins import same_origin, strip_fragment
from .signatures import Signer

_FAILURES = {
    FetchReason.NOT_FOUND: KeyFetchReason.NOT_FOUND,
    FetchReason.GONE: KeyFetchReason.GONE,
    FetchReason.REFUSED_ADDRESS: KeyFetchReason.REFUSED,
    FetchReason.REFUSED_SCHEME: KeyFetchReason.REFUSED,
    FetchReason.WRONG_CONTENT_TYPE: KeyFetchReason.INVALID_DOCUMENT,
    FetchReason.INVALID_JSON: KeyFetchReason.INVALID_DOCUMENT,
    FetchReason.TOO_DEEP: KeyFetchReason.INVALID_DOCUMENT,
    FetchReason.TOO_LARGE: KeyFetchReason.INVALID_DOCUMENT,
    FetchReason.ID_MISMATCH: KeyFetchReason.OWNER_MISMATCH,
}


def find_key(document: dict[str, Any], key_id: str) -> dict[str, Any] | None:
    """The key object with this id: the document itself, or one of its `publicKey` entries."""
    if document.get("id") == key_id and isinstance(document.get("publicKeyPem"), str):
        return document
    entries = document.get("publicKey")
    for entry in entries if isinstance(entries, list) else [entries]:
        if isinstance(entry, dict) and entry.get("id") == key_id and isinstance(entry.get("publicKeyPem"), str):
            return entry
    return None


class DocumentKeyFetcher:
    """Fetch keys over HTTP; wrap it in a `KeyCache`. `signer` is the instance actor (secure-mode peers);
    `signer_source`, if given, is asked for it before every fetch instead, so a rotated key is used at once."""

    def __init__(self, session: GuardedSession, signer: Signer | None = None,
                 signer_source: Callable[[], Awaitable[Signer | None]] | None = None) -> None:
        self._session = session
        self._signer = signer
        self._signer_source = signer_source

    async def _current_signer(self) -> Signer | None:
        return await self._signer_source() if self._signer_source is not None else self._signer

    async def fetch_key(self, key_id: str) -> KeyResult:
        fetched = await fetch_document(self._session, key_id, await self._current_signer(), check_id=False)
        if isinstance(fetched, FetchFailed):
            return _failed(key_id, fetched)
        entry = find_key(fetched.document, key_id)
        if entry is None:
            return KeyFetchFailed(key_id, KeyFetchReason.KEY_NOT_IN_DOCUMENT, "document does not carry the key")
        owner = entry.get("owner") if isinstance(entry.get("owner"), str) else fetched.document.get("id")
        if not isinstance(owner, str) or not same_origin(owner, key_id) or not same_origin(fetched.url, key_id):
            return KeyFetchFailed(key_id, KeyFetchReason.OWNER_MISMATCH, "key owner is on another origin")
        key = RemoteKey(key_id, owner, entry["publicKeyPem"])
        if fetched.document.get("id") == owner and strip_fragment(key_id) in (owner, fetched.url):
            return replace(key, owner_document=fetched.document) if fetched.url == owner else key
        return await self._confirm_owner(key)

    async def _confirm_owner(self, key: RemoteKey) -> KeyResult:
        fetched = await fetch_document(self._session, key.owner, await self._current_signer())
        if isinstance(fetched, FetchFailed):
            return _failed(key.key_id, fetched)
        entry = find_key(fetched.document, key.key_id)
        if entry is None or entry["publicKeyPem"].strip() != key.public_key_pem.strip():
            return KeyFetchFailed(key.key_id, KeyFetchReason.OWNER_MISMATCH, "owner does not list this key")
        return replace(key, owner_document=fetched.document)  # fetched with its id checked against the URL


def _failed(key_id: str, fetched: FetchFailed) -> KeyFetchFailed:
    reason = _FAILURES.get(fetched.reason, KeyFetchReason.UNREACHABLE)
    return KeyFetchFailed(key_id, reason, f"{fetched.reason}: {fetched.description}")
