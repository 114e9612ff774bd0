"""Rotating an account's signing key: a new RSA-2048 pair in the actor table, an audit entry with both
fingerprints, and an `Update` of the actor to every follower's server, all in one transaction. The
instance actor (it signs our key and document fetches, and has no followers) gets the key and the audit
entry; running processes read it from the database for their next fetch.

The key id stays `…/users/{name}#main-key`, as with Mastodon: there is one key per actor, so the old key
is not kept. Servers that cached the old key fail to verify our next signature, fetch the actor again (as
Mastodon and GoToSocial do) and find the new key; the `Update` tells the others before that."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.keys import generate_keypair
from activitypub.uris import INSTANCE_ACTOR_NAME
from bridge.config.model import Config
from bridge.delivery.jobs import enqueue_actor_update
from bridge.store.models import Actor
from consent.audit import Action, Event, record

ALGORITHM = "rsa-2048"


class RotateReason(enum.StrEnum):
    OK = "ok"
    UNKNOWN_ACCOUNT = "unknown_account"

    @property
    def description(self) -> str:
        return ROTATE_TEXT[self]


ROTATE_TEXT = {
    RotateReason.OK: "the key was rotated",
    RotateReason.UNKNOWN_ACCOUNT: "no such account in the config and the database",
}


@dataclass(frozen=True)
class Rotation:
    reason: RotateReason
    old_fingerprint: str = ""
    new_fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is RotateReason.OK


def fingerprint(public_pem: str) -> str:
    """SHA-256 of the DER public key (SubjectPublicKeyInfo), as `SHA256:` and hex: safe to log and show."""
    der = serialization.load_pem_public_key(public_pem.encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + hashlib.sha256(der).hexdigest()


async def rotate_key(session: AsyncSession, config: Config, name: str, operator: str = "cli") -> Rotation:
    """In the caller's transaction: nothing is sent and no process signs with the new key before it commits."""
    actor = await session.scalar(select(Actor).where(Actor.name == name).with_for_update())
    if actor is None or (config.actor(name) is None and name != INSTANCE_ACTOR_NAME):
        return Rotation(RotateReason.UNKNOWN_ACCOUNT)
    old = fingerprint(actor.public_key_pem)
    keys = generate_keypair()
    actor.private_key_pem, actor.public_key_pem = keys.private_pem, keys.public_pem
    new = fingerprint(keys.public_pem)
    await record(session, Event(Action.KEY_CREATED, "admin", operator, subject_ref=f"actor:{name}",
                                details={"algorithm": ALGORITHM, "fingerprint": new, "replaces": old}))
    if name != INSTANCE_ACTOR_NAME:  # servers re-fetch its key when a fetch's signature fails to verify
        await enqueue_actor_update(session, name)
    return Rotation(RotateReason.OK, old, new)
