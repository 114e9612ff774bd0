"""FEP-044f quote authorizations we granted. Their id is dereferenced by every server that shows the
quote, so each grant is kept (sealed with the quoting person's key) and served until it is withdrawn
or the person is erased; after that its URL answers 404 and servers treat the quote as revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.fingerprints import Kind, fingerprint
from consent.models import QuoteGrant, Subject
from consent.vault import Vault


@dataclass(frozen=True)
class OpenedGrant:
    token: str
    actor_name: str
    post_id: int
    instrument: str  # the quoting post


def grant_token(vault: Vault, request_id: str) -> str:
    """Stable per QuoteRequest, so a redelivered request gets the same authorization."""
    return fingerprint(vault, Kind.QUOTE, request_id)


async def grant_quote(session: AsyncSession, vault: Vault, subject: Subject, actor_name: str, post_id: int,
                      request_id: str, instrument: str, now: datetime | None = None) -> str:
    """Stores the grant (once per request) and returns its token."""
    token = grant_token(vault, request_id)
    if await session.scalar(select(QuoteGrant.id).where(QuoteGrant.token == token)) is None:
        session.add(QuoteGrant(token=token, subject_id=subject.id, actor_name=actor_name, post_id=post_id,
                               enc_instrument=vault.seal(subject, "quote_grant.instrument", instrument),
                               created_at=now or datetime.now(timezone.utc)))
        await session.flush()
    return token


async def find_grant(session: AsyncSession, vault: Vault, actor_name: str, token: str) -> OpenedGrant | None:
    row = await session.scalar(select(QuoteGrant).where(QuoteGrant.token == token,
                                                        QuoteGrant.actor_name == actor_name))
    if row is None:
        return None
    subject = await session.get(Subject, row.subject_id)
    instrument = vault.open(subject, "quote_grant.instrument", row.enc_instrument) if subject else None
    return None if instrument is None else OpenedGrant(token, row.actor_name, row.post_id, instrument)


async def withdraw_grants_for_post(session: AsyncSession, post_id: int) -> int:
    """Our post was deleted: its authorizations go with it."""
    return (await session.execute(delete(QuoteGrant).where(QuoteGrant.post_id == post_id))).rowcount
