"""Erasing a person, whichever way it is asked for (their own Delete, the DPO, the CLI): the consent
store's rows and key, the jobs that would still contact them or that name them (finished jobs are kept
for days), and what our own posts say about them."""

from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.db import utcnow
from bridge.delivery.jobs import DELIVER_JOB, DIRECT_JOB
from bridge.store.models import Job, JobState, Post
from consent.erasure import erase_subject
from consent.models import RemoteActor, Subject
from consent.subjects import open_actor
from consent.vault import Vault

_UNFINISHED = (JobState.QUEUED, JobState.RUNNING)


async def zero_what_is_deleted(session: AsyncSession) -> None:
    """On SQLite, what this transaction deletes is overwritten with zeros instead of lingering in free pages
    of the file (PostgreSQL reclaims dead rows by VACUUM). Every erasure path calls it first."""
    if session.bind.dialect.name == "sqlite":
        await session.execute(text("PRAGMA secure_delete = ON"))


async def erase_person(session: AsyncSession, vault: Vault, subject: Subject, now=None) -> dict:
    """Returns counts for the audit entry (never names)."""
    await zero_what_is_deleted(session)
    row = await session.get(RemoteActor, subject.id)
    actor = open_actor(vault, subject, row) if row is not None else None  # read before the key is destroyed
    erasure = await erase_subject(session, vault, subject, now)
    cancelled, reduced = await reduce_subject_jobs(session, subject.id, actor.inbox if actor else None)
    answers = await forget_in_answers(session, actor.uri) if actor else 0
    mentions = await forget_in_mentions(session, actor.uri) if actor else 0
    return {**erasure.as_dict(), "jobs_cancelled": cancelled, "jobs_reduced": reduced, "answers_unlinked": answers,
            "mentions_unlinked": mentions}


async def reduce_subject_jobs(session: AsyncSession, subject_id: int, inbox: str | None) -> tuple[int, int]:
    """The jobs that name the person, in any state: direct deliveries to them (an Accept, a consent
    request: their inbox, actor URI and our message) and deliveries of posts to their own inbox (a shared
    inbox names a server, not a person). Unfinished ones are cancelled; every one keeps its row (the
    queue's history) but not the person: the payload keeps ids only, the ordering key goes.
    Returns (cancelled, reduced)."""
    naming = (Job.kind == DIRECT_JOB) & (Job.payload["subject_id"].as_integer() == subject_id)
    if inbox is not None:
        naming |= (Job.kind == DELIVER_JOB) & (Job.payload["inbox"].as_string() == inbox)
    mine = (await session.scalars(select(Job).where(naming))).all()
    now, cancelled = utcnow(), 0
    for job in mine:
        if job.state in _UNFINISHED:  # a running one may be under way: the worker's finish then leaves it be
            job.state, job.finished_at, job.locked_by, job.locked_until = JobState.CANCELLED, now, None, None
            cancelled += 1
        job.payload, job.ordering_key = _ids_of(job, subject_id), None
    return cancelled, len(mine) - cancelled


def _ids_of(job: Job, subject_id: int) -> dict:
    if job.kind == DIRECT_JOB:
        return {"subject_id": subject_id}
    return {key: value for key, value in (job.payload or {}).items() if key in ("post_id", "verb", "actor")}


async def forget_in_answers(session: AsyncSession, actor_uri: str) -> int:
    """Our answers to the person keep their text (it is the authority's), but no longer point at them:
    the reply-to note, actor and handle are personal data outside the consent store."""
    result = await session.execute(update(Post).where(Post.in_reply_to_actor == actor_uri).values(
        in_reply_to=None, in_reply_to_actor=None, in_reply_to_handle=None)
        .execution_options(synchronize_session=False))
    return result.rowcount


async def forget_in_mentions(session: AsyncSession, actor_uri: str) -> int:
    """Posts that mentioned the person keep their text (the handle is in it), but no longer the actor id
    WebFinger found for it: the Mention links the profile page again, and nothing more goes to them."""
    rows = (await session.execute(select(Post.id, Post.mention_actors).where(Post.mention_actors.is_not(None)))).all()
    changed = 0
    for post_id, mentions in rows:
        if not isinstance(mentions, dict) or actor_uri not in mentions.values():
            continue
        kept = {handle: uri for handle, uri in mentions.items() if uri != actor_uri}
        await session.execute(update(Post).where(Post.id == post_id).values(mention_actors=kept)
                              .execution_options(synchronize_session=False))
        changed += 1
    return changed
