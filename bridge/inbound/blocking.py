"""Domain blocks at the inbox door: checked on the claimed signer and the activity's actor before any
signature is verified or key fetched, so a blocked server costs us one indexed lookup and nothing more."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activitypub.normalize import id_of
from activitypub.origins import host_of
from bridge.delivery.domain_blocks import blocked_hosts
from bridge.inbound.request import Parts


async def blocked_sender(parts: Parts, claimed: str | None, document: Mapping[str, Any]) -> bool:
    """Whether the server that signed (as claimed) or the actor named in the activity is blocked."""
    actor = id_of(document.get("actor"))
    hosts = {h for h in (claimed, host_of(actor) if actor else None) if h}
    if not hosts:
        return False
    async with parts.sessions() as session:
        return bool(await blocked_hosts(session, hosts))
