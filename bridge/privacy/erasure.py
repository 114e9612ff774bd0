"""Erasing a person, whichever way it is asked for (their own Delete, the DPO, the CLI): the consent
store's rows and key, the jobs that would still contact them, and what our own posts say about them."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.db import utcnow
from bridge.delivery.jobs import DIRECT_JOB
from bridge.store.models import Job, JobState, Post
from consent.erasure import erase_subject
from consent.models import Subject
from consent.subjects import known_actor_of
from consent.vault import Vault


async def erase_person(session: AsyncSession, vault: Vault, subject: Subject, now=None) -> dict:
    """Returns counts for the audit entry (never names)."""
    actor_uri = await known_actor_of(session, vault, subject)  # read before the key is destroyed
    erasure = await erase_subject(session, vault, subject, now)
    cancelled = await cancel_subject_jobs(session, subject.id)
    answers = await forget_in_answers(session, actor_uri) if actor_uri else 0
    mentions = await forget_in_mentions(session, actor_uri) if actor_uri else 0
    return {**erasure.as_dict(), "jobs_cancelled": cancelled, "answers_unlinked": answers,
            "mentions_unlinked": mentions}


async def cancel_subject_jobs(session: AsyncSession, subject_id: int) -> int:
    """Queued direct deliveries to the person (an Accept, a consent request) carry their inbox: they
    are cancelled and their payload is reduced to the subject id. Only direct deliveries name a person."""
    queued = (await session.scalars(select(Job).where(Job.kind == DIRECT_JOB, Job.state == JobState.QUEUED))).all()
    mine = [job for job in queued if (job.payload or {}).get("subject_id") == subject_id]
    for job in mine:
        job.state, job.finished_at, job.payload = JobState.CANCELLED, utcnow(), {"subject_id": subject_id}
    return len(mine)


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
