"""Group commit for the inbox's commonest activity: a reply to one of our posts by someone we know.

A post that draws a thread brings hundreds of such replies within seconds. Each one alone costs a dozen
queries and a commit under the database's single write lock; here the replies that arrive while one
batch is being written are written together as the next batch — a handful of set-based queries and one
commit for all of them — and each sender gets its answer after that commit, so a 202 still means stored.

Only the plain case is written here: a reply (not an answer to a consent request) to a published post,
with an activity we have not seen, from a server that is not blocked, by a person whose actor we keep —
or by someone we have never met whose actor document the key fetch of this very request brought (a
newcomer: the thread that goes viral brings mostly those), for whom the batch creates the subject and the
actor record as the general path would — and that the consent policy (`consent.policy.decide`, which the
general path asks too) lets us store. Anything else — including a batch the database refuses, e.g.
because a concurrent request wrote the same row — goes back to the general pipeline (`None`), which
decides it one by one with the same rule, so both ways give the same rows, answers and audit entries.
A programming error is not such a case: every request of the batch fails with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError

from activitypub.inbound import CreateNoteIn, parse_activity
from activitypub.sanitize import sanitize_html
from bridge.store.db import utcnow
from bridge.delivery.domain_blocks import blocked_hosts
from bridge.delivery.hosts import record_successes
from bridge.inbound.auditing import event_for
from bridge.config.model import REPLY_RETENTION
from bridge.inbound.create import Concern, facts_for
from bridge.inbound.effects import Effect, Handled
from bridge.inbound.local import local_posts, post_ref
from bridge.inbound.people import Person, person_of
from bridge.inbound.request import Acceptance, Answer, Parts
from consent.audit import record_many
from consent.auditlog import lock_head
from consent.policy import ReplyCase, Standing, Verdict, decide
from consent.replies import insert_replies, reply_values, stored_among
from consent.seen import mark_seen_many, seen_among
from consent.signals import ProfileSignals
from consent.subjects import ActorFacts, known_profiles, remember_new_actors, subjects_among

log = logging.getLogger("stadtbote.inbox")

MAX_BATCH = 256  # replies per transaction; more only lengthens the write lock others wait for
_LOGGED_DOMAINS = 10  # a batch's log line names at most this many sending servers


@dataclass
class _Item:
    activity: CreateNoteIn
    document: dict[str, Any]
    domain: str
    newcomer: ActorFacts | None  # the author's fetched profile, when they may be someone we never met
    answer: asyncio.Future[Answer | None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class ReplyWriter:
    """One per web process; `close()` on shutdown answers whatever is still queued (the general path)."""

    def __init__(self, parts: Parts, max_batch: int = MAX_BATCH) -> None:
        self._parts = parts
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self.batches = 0  # for tests and the benchmark: how many transactions were written
        self.newcomers = 0  # and how many people were met in them

    def wants(self, document: dict[str, Any]) -> CreateNoteIn | None:
        """The parsed reply when the document is a candidate for the batch (decided without the database)."""
        if document.get("type") != "Create":
            return None
        activity = parse_activity(document)
        if not isinstance(activity, CreateNoteIn) or not activity.activity_id or activity.note.is_vote:
            return None  # a poll vote is counted on the general path, never written as a reply
        return activity if post_ref(self._parts.config, self._parts.federation.uris,
                                    activity.note.in_reply_to) else None

    async def submit(self, activity: CreateNoteIn, document: dict[str, Any], domain: str,
                     newcomer: ActorFacts | None = None) -> Answer | None:
        """The answer once the batch holding this reply committed, or None: take the general path.
        `newcomer`: the author's profile as just fetched with their key (its id is the activity's actor)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="stadtbote-reply-writer")
        item = _Item(activity, document, domain, newcomer)
        self._queue.put_nowait(item)
        return await asyncio.shield(item.answer)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            _settle(self._queue.get_nowait(), None)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                answers = await self._write(batch)
            except asyncio.CancelledError:
                for item in batch:
                    _settle(item, None)
                raise
            except DBAPIError as exc:  # e.g. a concurrent twin hit a unique key: decide each one alone
                log.info("inbox batch of %d fell back: %s", len(batch), exc.__class__.__name__)
                answers = [None] * len(batch)
            except Exception as exc:  # a bug: each sender's request fails with it (logged there), none hangs
                for item in batch:
                    _fail(item, exc)
                continue
            for item, answer in zip(batch, answers):
                _settle(item, answer)

    async def _write(self, batch: list[_Item]) -> list[Answer | None]:
        parts, now = self._parts, utcnow()
        vault, uris = parts.federation.vault, parts.federation.uris
        answers: list[Answer | None] = [None] * len(batch)
        # Sanitising is the batch's largest cost: done before the write lock, which on SQLite is everyone's.
        cleaned = [sanitize_html(item.activity.note.content_html) for item in batch]
        async with parts.sessions() as session:
            await lock_head(session)  # writers queue here, so the reads below stay true until the commit
            posts = await local_posts(session, parts.config, uris, {i.activity.note.in_reply_to for i in batch})
            seen = await seen_among(session, vault, {i.activity.activity_id for i in batch})
            people: dict[str, Person] = {uri: person_of(known) for uri, known in (await known_profiles(
                session, vault, {i.activity.actor for i in batch})).items()}
            newcomers = await _newcomers(session, vault, batch, people)
            stored = await stored_among(session, vault, {i.activity.note.id for i in batch})
            blocked = await blocked_hosts(session, {i.domain for i in batch})
            taken: set[str] = set()  # activity and note ids written in this batch
            chosen: list[int] = []
            for index, item in enumerate(batch):
                activity, note = item.activity, item.activity.note
                if activity.activity_id in seen:
                    answers[index] = Answer(202, Acceptance.DUPLICATE)
                    continue
                if (note.in_reply_to not in posts or (activity.actor not in people and activity.actor not in newcomers)
                        or item.domain in blocked or activity.activity_id in taken or note.id in taken):
                    continue  # not the plain case: the general path decides and explains it
                author = people[activity.actor].subject if activity.actor in people else None
                if decide(ReplyCase(Standing.of(author), author.id if author is not None else None,
                                    stored.get(note.id))) is not Verdict.STORE:
                    continue  # the general path gives the policy's answer and audits it
                taken.update((activity.activity_id, note.id))
                chosen.append(index)
            met = {batch[i].activity.actor for i in chosen} & newcomers.keys()
            for uri, subject in (await remember_new_actors(session, vault, [newcomers[u] for u in met])).items():
                facts = newcomers[uri]
                people[uri] = Person(subject, ProfileSignals.from_dict(facts.signals), facts.inbox, True)
            written: list[tuple[int, Handled]] = []
            rows = []
            for index in chosen:
                note, author = batch[index].activity.note, people[batch[index].activity.actor]
                post = posts[note.in_reply_to]
                rows.append(reply_values(vault, author.subject,
                                         facts_for(note, Concern(post.actor_name, post.id), author, cleaned[index]),
                                         REPLY_RETENTION, now))
                written.append((index, Handled(Effect.REPLY_STORED, author.subject, {"account": post.actor_name})))
            if written:
                await insert_replies(session, rows)
                await mark_seen_many(session, vault, [batch[i].activity.activity_id for i, _ in written], now)
                await record_many(session, [event_for(h, batch[i].document, batch[i].domain) for i, h in written], now)
                await record_successes(session, {batch[i].domain for i, _ in written}, now)
                await session.commit()
                self.batches += 1
                self.newcomers += len(met)
        for index, handled in written:
            answers[index] = Answer(202, str(handled.effect))
        if written:  # one line per batch: a line per reply was some 2 % of the event loop's time
            domains = sorted({batch[i].domain for i, _ in written})
            log.info("inbox accepted type=Create effect=%s count=%d newcomers=%d domains=%s%s", Effect.REPLY_STORED,
                     len(written), len(met), ",".join(domains[:_LOGGED_DOMAINS]),
                     f",+{len(domains) - _LOGGED_DOMAINS}" if len(domains) > _LOGGED_DOMAINS else "")
        return answers


async def _newcomers(session, vault, batch: list[_Item], people: dict[str, Person]) -> dict[str, ActorFacts]:
    """The authors in `batch` we may meet here: a profile came with the item, and no subject of any kind
    exists for them (someone who objected, was erased or is half-known is the general path's to decide)."""
    offered = {i.activity.actor: i.newcomer for i in batch
               if i.newcomer is not None and i.activity.actor not in people}
    if not offered:
        return {}
    known = await subjects_among(session, vault, offered)
    return {uri: facts for uri, facts in offered.items() if uri not in known}


def _settle(item: _Item, answer: Answer | None) -> None:
    if not item.answer.done():
        item.answer.set_result(answer)


def _fail(item: _Item, exc: Exception) -> None:
    if not item.answer.done():
        item.answer.set_exception(exc)
