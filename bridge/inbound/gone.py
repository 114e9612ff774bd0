"""Deletes of whole accounts, which often cannot be verified: Mastodon signs them with the deleted
account's key, and its server answers 410 for that key by the time we ask.

A Delete of an account we never knew is dropped without any fetch (Mastodon does the same, so a wave of
account deletions causes no fetch storm). For one we do know, the account's own server is asked: only
if it answers 410 Gone for the actor is everything of that person erased. The server is the authority on
its accounts, so a forged Delete cannot erase anyone whose account still exists.
"""

from __future__ import annotations

import logging
from typing import Any

from activitypub.fetch import FetchFailed, FetchReason, fetch_document
from activitypub.normalize import id_of, type_of
from activitypub.origins import host_of
from activitypub.uris import INSTANCE_ACTOR_NAME
from bridge.store.db import utcnow
from bridge.inbound.auditing import event_for
from bridge.inbound.context import InboundContext
from bridge.inbound.delete import erase_person
from bridge.inbound.request import Answer, Parts
from consent.audit import record
from consent.subjects import find_subject

log = logging.getLogger("stadtbote.inbox")


def is_self_delete(document: dict[str, Any]) -> bool:
    actor = id_of(document.get("actor"))
    return type_of(document) == "Delete" and bool(actor) and actor == id_of(document.get("object"))


async def is_known(parts: Parts, document: dict[str, Any]) -> bool:
    async with parts.sessions() as session:
        subject = await find_subject(session, parts.federation.vault, id_of(document.get("actor")) or "")
    return subject is not None and subject.wrapped_key is not None


async def erase_if_gone(parts: Parts, document: dict[str, Any]) -> Answer | None:
    """Erase the person if their server confirms the account is gone; None when it does not."""
    actor = id_of(document.get("actor")) or ""
    domain = host_of(actor) or ""
    async with parts.sessions() as session:
        subject = await find_subject(session, parts.federation.vault, actor)
        if subject is None:
            return None
        signer = await parts.federation.signer(session, INSTANCE_ACTOR_NAME)
        fetched = await fetch_document(parts.federation.http, actor, signer)
        if not (isinstance(fetched, FetchFailed) and fetched.reason is FetchReason.GONE):
            return None
        ctx = InboundContext(parts.config, parts.federation, session, document, domain, utcnow())
        handled = await erase_person(ctx, subject)
        await record(session, event_for(handled, document, domain))
        await session.commit()
    log.info("inbox accepted type=Delete effect=%s domain=%s confirmed=gone", handled.effect, domain)
    return Answer(202, str(handled.effect))
