"""Everything one inbound activity's handler may use: the request's session, the process's federation
parts, the raw (verified) document, and a signed fetch for documents from other servers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.fetch import FetchResult, fetch_document
from activitypub.uris import INSTANCE_ACTOR_NAME, Uris
from bridge.config.model import REPLY_RETENTION, Config
from bridge.runtime.federation import Federation
from consent.vault import Vault



@dataclass
class InboundContext:
    config: Config
    federation: Federation
    session: AsyncSession
    document: dict[str, Any]  # the activity as received; its signature and actor were verified
    sender_domain: str
    now: datetime
    retention: timedelta = REPLY_RETENTION
    key_id: str | None = None  # the verified signature's key (evidence in consent receipts)

    @property
    def uris(self) -> Uris:
        return self.federation.uris

    @property
    def vault(self) -> Vault:
        return self.federation.vault

    async def fetch(self, uri: str) -> FetchResult:
        """GET a remote document through the guard, signed by the instance actor (secure-mode servers).

        Handlers fetch before they write, so no database write lock is held while we wait on the network."""
        signer = await self.federation.signer(self.session, INSTANCE_ACTOR_NAME)
        return await fetch_document(self.federation.http, uri, signer)
