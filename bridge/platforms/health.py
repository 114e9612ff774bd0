"""A daily look at every platform account's credentials.

A token that expired or was revoked shows as "reconnect needed" on the admin page the day it dies — not
when the next post fails to go out — and an account that works again gets its refused sends queued
again. The admin's "Check now" button runs the same check. The check sends the token only, no post.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.queue import jobs
from bridge.platforms import sends as mirroring
from bridge.config.model import Config, PlatformConfig
from bridge.platforms.answers import release_drafts
from bridge.platforms.connectors import registry
from bridge.platforms.connectors.base import Connector, Outcome, Result
from bridge.store.db import utcnow
from bridge.runtime.federation import Federation
from bridge.queue.context import JobOutcome, JobStatus, WorkerContext
from bridge.store.models import Job
from bridge.store.platforms import PlatformAccount, PlatformSend
from bridge.platforms.reasons import MirrorReason
from bridge.platforms.accounts import (
    account_row,
    load_state,
    mark_checked,
    need_reconnect,
    save_state,
    session_key,
)
from consent.audit import Action, Event, Outcome as AuditOutcome, record

log = logging.getLogger("stadtbote.mirroring")

HEALTH_JOB = "platform_health"
INTERVAL = timedelta(days=1)
SYSTEM = ("system", "system")


async def check_account(session: AsyncSession, federation: Federation, platform: PlatformConfig, clock,
                        by: tuple[str, str], connectors=None) -> Result | None:
    """Asks the platform whether the account's credentials work and records the answer (committed); None
    when the platform's kind has no connector. Nothing is held in the database while the platform answers:
    on SQLite an open write would stop every other writer (the inbox too) for as long as it takes."""
    key = session_key(federation.vault.kek)
    row = await account_row(session, platform.id)
    await session.commit()
    connector = registry.build(platform, federation.http, load_state(row, key), clock, connectors)
    if connector is None:
        return None
    result = await connector.check_credentials()
    await apply_check(session, row, connector, result, key, by, clock())
    await session.commit()
    return result


async def apply_check(session: AsyncSession, row: PlatformAccount, connector: Connector, result: Result,
                      key: bytes, by: tuple[str, str], now: datetime) -> None:
    if result.outcome is Outcome.SENT:
        save_state(row, key, connector.account, now)
        mark_checked(row, result, now)
        refused = (await session.scalars(select(PlatformSend).where(
            PlatformSend.platform_id == row.platform_id, PlatformSend.reason == "invalid_credentials"))).all()
        for send in refused:  # the account works again: what it refused goes out now
            await mirroring.decide(session, send.post_id, row.platform_id, mirroring.Decision.RETRY, *by)
        await release_drafts(session, row.platform_id)  # and answers kept while it needed reconnecting
    elif result.outcome is Outcome.AUTH_FAILED:
        if need_reconnect(row, result, now):
            await record(session, Event(Action.PLATFORM_RECONNECT, by[0], by[1], AuditOutcome.FAILED,
                                        subject_ref=f"platform:{row.platform_id}", reason=str(result.reason),
                                        details={"platform": row.platform_id, "action": "check"}), now)
    else:  # the platform did not answer, or limited us: say so, decide nothing
        row.reason, row.detail, row.checked_at = str(result.reason), result.detail[:300] or None, now


async def ensure_health_job(session: AsyncSession, config: Config) -> bool:
    """Starts the daily chain where platforms are configured (a pending one is never doubled)."""
    if not config.platforms:
        return False
    return await jobs.schedule_once(session, HEALTH_JOB, utcnow())


def make_health_handler(clock=None, connectors=None):
    """The job handler; tests inject a clock and connector classes."""

    async def handle_health(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
        now = (clock or utcnow)()
        outcomes = []
        if ctx.federation is not None:
            for platform in ctx.config.platforms:
                async with ctx.lock(f"platform:{platform.id}"):  # the account session is shared with sends
                    result = await check_account(session, ctx.federation, platform, clock or utcnow, SYSTEM,
                                                 connectors)
                outcomes.append(f"{platform.id}:{result.outcome if result else 'no_connector'}")
                log.info("platform %s credentials: %s", platform.id, result.reason if result else "no_connector")
        if ctx.config.platforms:
            await jobs.schedule_once(session, HEALTH_JOB, now + INTERVAL, except_job=job.id)
        if not outcomes:
            return JobOutcome(JobStatus.DONE, MirrorReason.NO_PLATFORMS)
        return JobOutcome(JobStatus.DONE, MirrorReason.CHECKED, detail=" ".join(outcomes)[:200])

    return handle_health


def handlers(clock=None, connectors=None) -> dict:
    return {HEALTH_JOB: make_health_handler(clock, connectors)}
