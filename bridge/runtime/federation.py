"""The federation parts one process needs, created once in `create_app` or the worker command:
the guarded HTTP client, the remote-key cache, the local actors' signers, the signing processes and the
personal-data vault."""

from __future__ import annotations

import functools
import logging
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from aiohttp.abc import AbstractResolver
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activitypub.guard import GuardedSession, GuardPolicy, open_guarded_session
from activitypub.keycache import KeyCache
from activitypub.keyfetch import DocumentKeyFetcher
from activitypub.signing import Signer, sign_posts, start_signing_process
from activitypub.uris import INSTANCE_ACTOR_NAME, Uris
from bridge.config.model import Config
from bridge.store.models import Actor
from consent.vault import Vault


log = logging.getLogger("stadtbote.federation")


@dataclass
class Federation:
    config: Config
    uris: Uris
    http: GuardedSession
    keys: KeyCache
    vault: Vault
    # Processes that sign deliveries while the event loop sends (none: the loop's thread signs).
    signing: ProcessPoolExecutor | None = None
    signing_processes: int = 0
    # After a signing process died, the worker signs itself this long before starting new ones: a process
    # that cannot start at all must not be restarted for every chunk of deliveries.
    signing_restart_seconds: float = 60.0
    _signing_restart_at: float | None = field(default=None, repr=False)
    _signers: dict[str, Signer] = field(default_factory=dict, repr=False)

    async def signer(self, session: AsyncSession, actor_name: str) -> Signer | None:
        """The signer of a local actor with the key the database holds now. The key is read on every call
        (one small query per delivery batch) so that a key rotated by `stadtbote keys rotate` in another
        process signs from the next batch on; it is parsed again only when it changed."""
        pem = await session.scalar(select(Actor.private_key_pem).where(Actor.name == actor_name))
        if pem is None:
            self._signers.pop(actor_name, None)
            return None
        cached = self._signers.get(actor_name)
        if cached is None or cached.pem != pem:
            cached = self._signers[actor_name] = Signer.from_pem(self.uris.key_id(actor_name), pem)
        return cached

    async def instance_signer(self, sessions: async_sessionmaker[AsyncSession]) -> Signer | None:
        """The instance actor's signer with the key the database holds now (see `signer`): key fetches sign
        with a key rotated by `stadtbote keys rotate --actor instance.actor` in another process at once."""
        async with sessions() as session:
            return await self.signer(session, INSTANCE_ACTOR_NAME)

    def forget_signer(self, actor_name: str) -> None:
        self._signers.pop(actor_name, None)

    async def sign_posts(self, requests: Sequence[tuple[Signer, str, bytes]], content_type: str
                         ) -> list[dict[str, str]]:
        """Signed headers for many POSTs, in order, by the signing processes if there are any. A signing
        process that died (killed, out of memory, unable to start) costs no delivery: this process signs
        instead, and new signing processes take over after `signing_restart_seconds`."""
        restart_at = self._signing_restart_at
        if restart_at is not None and time.monotonic() >= restart_at:
            self._signing_restart_at, self.signing = None, signing_pool(self.signing_processes)
        if self.signing is not None:
            try:
                return await sign_posts(requests, self.signing, content_type=content_type)
            except BrokenProcessPool:
                log.warning("signing process died: reason=signing_process_broken, restart_in=%ss",
                            self.signing_restart_seconds)
                self.signing.shutdown(wait=False, cancel_futures=True)
                self.signing, self._signing_restart_at = None, time.monotonic() + self.signing_restart_seconds
        return await sign_posts(requests, None, content_type=content_type)

    async def close(self) -> None:
        await self.http.close()
        if self.signing is not None:
            self.signing.shutdown(wait=True, cancel_futures=True)  # a signature takes well under 1 ms
        self.signing, self._signing_restart_at = None, None


def signing_pool(processes: int) -> ProcessPoolExecutor:
    # Started on first use, by "spawn": forking a process that runs threads (aiosqlite's, the pool's own)
    # can copy a held lock into the child.
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=start_signing_process)


def guard_policy(config: Config, public_overrides: tuple[str, ...] = ()) -> GuardPolicy:
    return GuardPolicy(allow_private=config.federation.allow_private_addresses,
                       public_overrides=public_overrides)


async def open_federation(config: Config, secret: bytes, instance_key_pem: str | None = None, *,
                          resolver: AbstractResolver | None = None,
                          public_overrides: tuple[str, ...] = (), signing_processes: int | None = None,
                          sessions: async_sessionmaker[AsyncSession] | None = None) -> Federation:
    """Call inside a running event loop. `instance_key_pem` signs key fetches (secure-mode servers); with
    `sessions`, the instance actor's key is read from the database for every fetch instead (key rotation).
    `signing_processes`: processes that sign deliveries (0: the event loop's thread signs; default: the
    configured `federation.signing_processes`).
    Call `close()` at the end."""
    uris = Uris.for_base(config.instance.base_url)
    http = open_guarded_session(guard_policy(config, public_overrides), resolver=resolver)
    instance_signer = Signer.from_pem(uris.key_id(INSTANCE_ACTOR_NAME), instance_key_pem) if instance_key_pem else None
    processes = config.federation.signing_processes if signing_processes is None else signing_processes
    signing = signing_pool(processes) if processes else None
    federation = Federation(config, uris, http, KeyCache(DocumentKeyFetcher(http, instance_signer)),
                            Vault.from_secret(secret), signing, processes)
    if sessions is not None:
        federation.keys = KeyCache(DocumentKeyFetcher(
            http, signer_source=functools.partial(federation.instance_signer, sessions)))
    return federation


async def instance_key(session: AsyncSession) -> str | None:
    return await session.scalar(select(Actor.private_key_pem).where(Actor.name == INSTANCE_ACTOR_NAME))
