"""The federation parts one process needs, created once in `create_app` or the worker command:
the guarded HTTP client, the remote-key cache, the local actors' signers and the personal-data vault."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from aiohttp.abc import AbstractResolver
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.guard import GuardedSession, GuardPolicy, open_guarded_session
from activitypub.keycache import KeyCache
from activitypub.keyfetch import DocumentKeyFetcher
from activitypub.signing import Signer
from activitypub.uris import INSTANCE_ACTOR_NAME, Uris
from bridge.config import Config
from bridge.models import Actor
from consent.vault import Vault


@dataclass
class Federation:
    config: Config
    uris: Uris
    http: GuardedSession
    keys: KeyCache
    vault: Vault
    # Helps sign deliveries: the event loop's thread and this one sign at once (RSA releases the GIL).
    signing: ThreadPoolExecutor | None = None
    _signers: dict[str, Signer] = field(default_factory=dict, repr=False)

    async def signer(self, session: AsyncSession, actor_name: str) -> Signer | None:
        """The signer of a local actor; keys are loaded once per process."""
        if actor_name not in self._signers:
            pem = await session.scalar(select(Actor.private_key_pem).where(Actor.name == actor_name))
            if pem is None:
                return None
            self._signers[actor_name] = Signer.from_pem(self.uris.key_id(actor_name), pem)
        return self._signers[actor_name]

    def forget_signer(self, actor_name: str) -> None:
        self._signers.pop(actor_name, None)

    async def close(self) -> None:
        await self.http.close()
        if self.signing is not None:
            self.signing.shutdown(wait=True, cancel_futures=True)  # a signature takes well under 1 ms


def guard_policy(config: Config, public_overrides: tuple[str, ...] = ()) -> GuardPolicy:
    return GuardPolicy(allow_private=config.federation.allow_private_addresses,
                       public_overrides=public_overrides)


async def open_federation(config: Config, secret: bytes, instance_key_pem: str | None = None, *,
                          resolver: AbstractResolver | None = None,
                          public_overrides: tuple[str, ...] = (), signing_threads: int | None = None) -> Federation:
    """Call inside a running event loop. `instance_key_pem` signs key fetches (secure-mode servers).
    `signing_threads`: threads that help the event loop's thread sign deliveries (0: none; default: the
    configured `federation.signing_threads`).
    Call `close()` at the end."""
    uris = Uris.for_base(config.instance.base_url)
    http = open_guarded_session(guard_policy(config, public_overrides), resolver=resolver)
    instance_signer = Signer.from_pem(uris.key_id(INSTANCE_ACTOR_NAME), instance_key_pem) if instance_key_pem else None
    keys = KeyCache(DocumentKeyFetcher(http, instance_signer))
    threads = config.federation.signing_threads if signing_threads is None else signing_threads
    signing = ThreadPoolExecutor(threads, "stadtbote-sign") if threads else None
    return Federation(config, uris, http, keys, Vault.from_secret(secret), signing)


async def instance_key(session: AsyncSession) -> str | None:
    return await session.scalar(select(Actor.private_key_pem).where(Actor.name == INSTANCE_ACTOR_NAME))
