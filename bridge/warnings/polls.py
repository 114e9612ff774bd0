"""Polling the `[[warnings]]` sources: one `warnings_poll` job per source re-enqueues itself after `interval`
seconds (after a failure: doubling back-off up to an hour); `stadtbote warnings poll` runs every source once.

A failing source (down, slow, garbage, endless redirects) is recorded with its reason for the admin page; the
chain, the worker and the other sources go on."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import AsyncIterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.guard import GuardPolicy, open_guarded_session
from bridge.config.model import Config, WarningSourceConfig
from bridge.publishing.hubping import HttpClient
from bridge.queue import jobs
from bridge.store.db import utcnow
from bridge.store.models import Job, JobState
from bridge.store.warnings import OfficialWarning, WarningSourceState
from bridge.warnings import lane, sources
from bridge.warnings.cap import Info, Message
from bridge.warnings.reasons import WarningReason

POLL_JOB = "warnings_poll"
MAX_BACKOFF = timedelta(hours=1)
log = logging.getLogger("stadtbote.warnings")


@dataclass
class PollResult:
    source_id: str
    reason: WarningReason
    description: str = ""
    actions: dict[str, int] = field(default_factory=dict)  # per message reason: how many

    @property
    def summary(self) -> str:
        done = ", ".join(f"{reason} {count}" for reason, count in sorted(self.actions.items()))
        return "; ".join(part for part in (self.description, done) if part)


async def poll_source(config: Config, session: AsyncSession, source: WarningSourceConfig, http: HttpClient,
                      now: datetime | None = None) -> PollResult:
    """One poll of one source; writes warnings, posts and the source's state in `session` (caller commits)."""
    now = now or utcnow()
    state = await _state(session, source.id)
    fetched = await sources.fetch(source, http, state.etag, state.last_modified)
    result = PollResult(source.id, fetched.reason, fetched.detail)
    if not fetched.broken and fetched.reason is not WarningReason.NOT_MODIFIED:
        messages = fetched.messages + await _level_messages(session, source, fetched.readings, now)
        for message in sorted(messages, key=lambda m: m.sent):  # an Alert before its Update in one answer
            applied = await lane.apply(session, config, source, message, now)
            result.actions[str(applied.reason)] = result.actions.get(str(applied.reason), 0) + 1
        if fetched.snapshot:
            listed = {lane.message_key(m.sender, m.identifier) for m in fetched.messages}
            _count(result, WarningReason.LIFTED, await lane.lift_missing(session, config, source, listed, now))
        state.etag, state.last_modified = fetched.etag, fetched.last_modified
    _count(result, WarningReason.EXPIRED, await lane.expire(session, source, now))
    await lane.pin_approved(session, source)
    if fetched.problems:
        result.description = "; ".join([result.description, *fetched.problems[:5]]).strip("; ")
    _remember(state, source, result, now)
    return result


def _count(result: PollResult, reason: WarningReason, count: int) -> None:
    if count:
        result.actions[str(reason)] = result.actions.get(str(reason), 0) + count


async def _state(session: AsyncSession, source_id: str) -> WarningSourceState:
    state = await session.get(WarningSourceState, source_id)
    if state is None:
        state = WarningSourceState(source_id=source_id, consecutive_failures=0)
        session.add(state)
    return state


def _remember(state: WarningSourceState, source: WarningSourceConfig, result: PollResult, now: datetime) -> None:
    state.last_polled_at, state.last_reason = now, str(result.reason)
    state.last_description = result.summary[:2000]
    if result.reason.broken:
        state.consecutive_failures += 1
    else:
        state.consecutive_failures, state.last_success_at = 0, now
    state.next_poll_at = now + next_delay(source, state.consecutive_failures)


def next_delay(source: WarningSourceConfig, failures: int) -> timedelta:
    """The interval; after failures it doubles each time (a source that is down is not hammered), at most an
    hour — but never longer than the interval if that is longer."""
    interval = timedelta(seconds=source.interval)
    if not failures:
        return interval
    return max(interval, min(interval * 2 ** min(failures, 10), MAX_BACKOFF))


async def _level_messages(session: AsyncSession, source: WarningSourceConfig, readings: list[sources.Reading],
                          now: datetime) -> list[Message]:
    """Gauge readings as CAP messages: crossing a level is an Alert, another level an Update, falling below
    every level a Cancel. The reading's time is in the identifier, so polls of one reading never repeat one."""
    messages = []
    for reading in readings:
        sender = f"pegelonline:{reading.station}"
        active = await session.scalar(select(OfficialWarning).where(
            OfficialWarning.source_id == source.id, OfficialWarning.sender == sender,
            OfficialWarning.state.in_(lane.CURRENT)).order_by(OfficialWarning.id.desc()).limit(1))
        if (active.severity if active else None) == reading.severity:
            continue
        identifier = f"{reading.station}.{int(reading.timestamp.timestamp())}"
        references = ((sender, active.identifier),) if active else ()
        level = f"{reading.value:.0f} cm"
        headline = f"Hoher Wasserstand am Pegel {reading.name.title()}: {level}"
        if reading.severity is None:
            messages.append(Message(sender, identifier + ".clear", reading.timestamp, "Cancel",
                                    references=references, infos=(_level_info(reading, "Minor", headline),)))
        else:
            messages.append(Message(sender, identifier, reading.timestamp, "Update" if active else "Alert",
                                    references=references, infos=(_level_info(reading, reading.severity, headline),)))
    return messages


def _level_info(reading: sources.Reading, severity: str, headline: str) -> Info:
    water = f" ({reading.water.title()})" if reading.water else ""
    return Info(language="de-DE", event="Hochwasser", severity=severity, urgency="Immediate",
                certainty="Observed", headline=headline, category="Met",
                description=f"Der Pegel {reading.name.title()}{water} meldet {reading.value:.0f} cm "
                            f"(Messung {reading.timestamp.isoformat()}).",
                sender_name="PEGELONLINE (WSV)", area=reading.name.title(), effective=reading.timestamp,
                web="https://www.pegelonline.wsv.de")


@contextlib.asynccontextmanager
async def source_client(config: Config, source: WarningSourceConfig,
                        public_overrides: tuple[str, ...] = ()) -> AsyncIterator[HttpClient]:
    """A guarded client for one source's poll, with its own time limit (a slow source cannot hold a worker)."""
    policy = GuardPolicy(allow_private=config.federation.allow_private_addresses, public_overrides=public_overrides,
                         total_timeout=float(source.timeout), connect_timeout=min(5.0, float(source.timeout)),
                         max_body=sources.MAX_BODY)
    session = open_guarded_session(policy)
    try:
        yield session
    finally:
        await session.close()


async def poll_and_commit(config: Config, session: AsyncSession, source: WarningSourceConfig,
                          http: HttpClient | None = None) -> PollResult:
    """A poll in its own transaction. When another worker imported the same message meanwhile, ours rolls
    back whole (nothing doubled) and the source's state says so."""
    try:
        if http is None:
            async with source_client(config, source) as client:
                result = await poll_source(config, session, source, client)
        else:
            result = await poll_source(config, session, source, http)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        result = PollResult(source.id, WarningReason.CONCURRENT, WarningReason.CONCURRENT.description)
        state = await _state(session, source.id)
        _remember(state, source, result, utcnow())
        await session.commit()
    log.info("warnings source=%s reason=%s %s", source.id, result.reason,
             " ".join(f"{k}={v}" for k, v in sorted(result.actions.items())))
    return result


async def poll_job(config: Config, session: AsyncSession, payload: dict, job_id: int | None = None,
                   http: HttpClient | None = None) -> PollResult | None:
    """Worker entry point: poll the source, then enqueue its next poll (unless it is no longer configured)."""
    source = next((s for s in config.warnings if s.id == payload.get("source")), None)
    if source is None:
        return None
    result = await poll_and_commit(config, session, source, http)
    state = await session.get(WarningSourceState, source.id)
    due = state.next_poll_at if state is not None and state.next_poll_at else utcnow() + next_delay(source, 0)
    await schedule(session, source.id, due, except_job=job_id)
    return result


async def schedule(session: AsyncSession, source_id: str, run_at: datetime, except_job: int | None = None) -> bool:
    """Enqueue a poll unless one is already waiting or running (several processes may start at once)."""
    pending = await session.scalars(select(Job).where(
        Job.kind == POLL_JOB, Job.state.in_((JobState.QUEUED, JobState.RUNNING))))
    if any(j.payload.get("source") == source_id and j.id != except_job for j in pending.all()):
        return False
    # A crashed poll (the database away) is retried for days rather than ending the source's chain.
    await jobs.enqueue(session, POLL_JOB, {"source": source_id}, run_at=run_at, max_attempts=16,
                       priority=jobs.Priority.URGENT)
    return True


async def ensure_polls(session: AsyncSession, config: Config) -> list[str]:
    """At start-up: every configured source gets a poll now, if it has none pending."""
    return [s.id for s in config.warnings if await schedule(session, s.id, utcnow())]


async def source_states(session: AsyncSession, config: Config) -> list[tuple[WarningSourceConfig,
                                                                          WarningSourceState | None]]:
    """(source, its last poll) for every configured source, for the admin page."""
    found = {s.source_id: s for s in (await session.scalars(select(WarningSourceState))).all()}
    return [(source, found.get(source.id)) for source in config.warnings]
