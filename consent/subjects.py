"""Subjects and what we keep of their fediverse accounts: found by pseudonym, fields sealed per subject."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import RemoteActor, Subject
from consent.vault import Vault

FEDIVERSE = "fediverse"


@dataclass(frozen=True)
class ActorFacts:
    """What the inbox learned about a remote actor (from its verified, fetched document)."""

    uri: str
    inbox: str
    shared_inbox: str | None = None
    handle: str | None = None
    name: str | None = None
    signals: dict = field(default_factory=dict)


@dataclass(frozen=True)
class KnownActor:
    subject: Subject
    uri: str
    inbox: str
    shared_inbox: str | None
    handle: str | None
    name: str | None
    signals: dict


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def find_subject(session: AsyncSession, vault: Vault, identifier: str) -> Subject | None:
    return await session.scalar(select(Subject).where(Subject.pseudonym == vault.pseudonym(identifier)))


def _new_subject(vault: Vault, identifier: str, kind: str) -> Subject:
    pseudonym = vault.pseudonym(identifier)
    return Subject(pseudonym=pseudonym, kind=kind, wrapped_key=vault.new_wrapped_key(pseudonym), created_at=_now())


async def ensure_subject(session: AsyncSession, vault: Vault, identifier: str, kind: str = FEDIVERSE) -> Subject:
    subject = await find_subject(session, vault, identifier)
    if subject is None:
        subject = _new_subject(vault, identifier, kind)
        session.add(subject)
        await session.flush()
    return subject


async def subjects_among(session: AsyncSession, vault: Vault, identifiers: Iterable[str]) -> set[str]:
    """Those of `identifiers` that have a subject of any kind (objected and erased ones included)."""
    by_pseudonym = {vault.pseudonym(i): i for i in identifiers}
    if not by_pseudonym:
        return set()
    found = await session.scalars(select(Subject.pseudonym).where(Subject.pseudonym.in_(by_pseudonym)))
    return {by_pseudonym[p] for p in found}


async def remember_new_actors(session: AsyncSession, vault: Vault, actors: Iterable[ActorFacts]) -> dict[str, Subject]:
    """Subjects and actor records for people we have no subject for yet (`subjects_among` says who), in
    two multi-row INSERTs: the first contacts of a busy thread, written as one batch. By URI."""
    facts = {f.uri: f for f in actors}
    if not facts:
        return {}
    subjects = {uri: _new_subject(vault, uri, FEDIVERSE) for uri in facts}
    session.add_all(subjects.values())
    await session.flush()  # the ids the actor records point to
    now = _now()
    rows = [{"subject_id": subjects[uri].id, **_actor_columns(vault, subjects[uri], f, now)} for uri, f in facts.items()]
    await session.execute(insert(RemoteActor), rows)
    return subjects


async def remember_actor(session: AsyncSession, vault: Vault, facts: ActorFacts,
                         subject: Subject | None = None) -> Subject:
    """Creates or refreshes the record of a remote actor; the caller decides whether we may keep it.
    `subject`: the actor's subject when the caller has just looked it up (saves the lookup)."""
    subject = subject if subject is not None else await ensure_subject(session, vault, facts.uri)
    row = await session.get(RemoteActor, subject.id)
    if row is None:
        row = RemoteActor(subject_id=subject.id)
        session.add(row)
    for name, value in _actor_columns(vault, subject, facts, _now()).items():
        setattr(row, name, value)
    await session.flush()
    return subject


def _actor_columns(vault: Vault, subject: Subject, facts: ActorFacts, now: datetime) -> dict:
    """A remote actor record's columns but its key, sealed with the subject's key where personal."""
    return {"domain": (urlsplit(facts.uri).hostname or "").lower(),
            "enc_uri": vault.seal(subject, "remote_actor.uri", facts.uri),
            "enc_inbox": vault.seal(subject, "remote_actor.inbox", facts.inbox),
            "shared_inbox": facts.shared_inbox,
            "enc_handle": vault.seal(subject, "remote_actor.handle", facts.handle) if facts.handle else None,
            "enc_name": vault.seal(subject, "remote_actor.name", facts.name) if facts.name else None,
            "signals": dict(facts.signals), "fetched_at": now}


def open_actor(vault: Vault, subject: Subject, row: RemoteActor) -> KnownActor | None:
    uri = vault.open(subject, "remote_actor.uri", row.enc_uri)
    inbox = vault.open(subject, "remote_actor.inbox", row.enc_inbox)
    if uri is None or inbox is None:
        return None  # erased: the key is gone
    return KnownActor(subject, uri, inbox, row.shared_inbox, vault.open(subject, "remote_actor.handle", row.enc_handle),
                      vault.open(subject, "remote_actor.name", row.enc_name), dict(row.signals or {}))


async def known_actor(session: AsyncSession, vault: Vault, uri: str) -> KnownActor | None:
    return (await known_actors(session, vault, [uri])).get(uri)


async def known_actors(session: AsyncSession, vault: Vault, uris: Iterable[str]) -> dict[str, KnownActor]:
    """The actors among `uris` we keep a readable record of, by URI: one query for a whole inbox batch."""
    by_pseudonym = {vault.pseudonym(uri): uri for uri in uris}
    if not by_pseudonym:
        return {}
    rows = (await session.execute(select(Subject, RemoteActor).join(RemoteActor, RemoteActor.subject_id == Subject.id)
                                  .where(Subject.pseudonym.in_(by_pseudonym)))).all()
    opened = {by_pseudonym[subject.pseudonym]: open_actor(vault, subject, row) for subject, row in rows}
    return {uri: actor for uri, actor in opened.items() if actor is not None}


@dataclass(frozen=True)
class KnownProfile:
    """What a reply needs of a known actor: the subject and the opt-out signals of the profile."""

    subject: Subject
    signals: dict


async def known_profiles(session: AsyncSession, vault: Vault, uris: Iterable[str]) -> dict[str, KnownProfile]:
    """Like `known_actors` but opens no sealed field: the URI is known from the pseudonym it matched, and a
    subject whose data key is destroyed (erased) is left out, as `known_actors` leaves it out."""
    by_pseudonym = {vault.pseudonym(uri): uri for uri in uris}
    if not by_pseudonym:
        return {}
    rows = (await session.execute(select(Subject, RemoteActor.signals)
                                  .join(RemoteActor, RemoteActor.subject_id == Subject.id)
                                  .where(Subject.pseudonym.in_(by_pseudonym), Subject.wrapped_key.is_not(None)))).all()
    return {by_pseudonym[subject.pseudonym]: KnownProfile(subject, dict(signals or {})) for subject, signals in rows}


async def known_actor_of(session: AsyncSession, vault: Vault, subject: Subject) -> str | None:
    """The actor URI of a subject we keep a remote-actor record for (None for platform people)."""
    row = await session.get(RemoteActor, subject.id)
    actor = open_actor(vault, subject, row) if row is not None else None
    return actor.uri if actor is not None else None
