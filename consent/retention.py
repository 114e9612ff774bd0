"""Storage limitation (Art. 5(1)(e)): what is due for deletion per data category, and deleting it.

Each category's period comes from the config (`[retention]`, via the bridge) and is listed in the Art. 30
register. A row is due when its deadline is at or before `now`; the run reports counts per category and
never what was deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.erasure import erase_subject
from consent.models import Follower, Interaction, QuoteGrant, RemoteActor, Reply, Report, Subject
from consent.models_privacy import RightsRequest
from consent.securitylog import forget_before, truncate_before
from consent.seen import forget_seen_before
from consent.subjects import FEDIVERSE
from consent.vault import Vault


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each category is kept; the defaults are those documented in config.example.toml."""

    replies: timedelta = timedelta(days=180)  # fediverse replies and mentions (moderation, answering)
    platform_replies: timedelta = timedelta(days=180)  # comments collected from platforms
    inactive_people: timedelta = timedelta(days=30)  # people with nothing left here (unfollowed, gone)
    inbound_dedupe: timedelta = timedelta(days=7)  # keyed hashes of processed activity ids
    security_addresses: timedelta = timedelta(days=7)  # full client addresses in the sign-in log
    security_log: timedelta = timedelta(days=90)  # the sign-in log itself (truncated addresses)
    reports: timedelta = timedelta(days=180)  # reports (Flag) from other servers
    closed_requests: timedelta = timedelta(days=3 * 365)  # answered access/erasure/objection requests

    def as_days(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name).days for f in fields(self)}


def _replies_due(policy_period: timedelta, now: datetime, fediverse: bool):
    # The earlier of the deadline set on arrival and the configured period wins: shortening the period
    # in the config applies to replies already stored.
    kind = Subject.kind == FEDIVERSE if fediverse else Subject.kind != FEDIVERSE
    return and_(Reply.subject_id.in_(select(Subject.id).where(kind)),
                or_(Reply.retain_until <= now, Reply.received_at <= now - policy_period))


async def purge_replies(session: AsyncSession, policy: RetentionPolicy, now: datetime) -> dict[str, int]:
    counts = {}
    for name, period, fediverse in (("replies", policy.replies, True),
                                    ("platform_replies", policy.platform_replies, False)):
        result = await session.execute(delete(Reply).where(_replies_due(period, now, fediverse))
                                       .execution_options(synchronize_session=False))
        counts[name] = result.rowcount
    return counts


def _inactive(cutoff: datetime):
    """Subjects with a key and nothing left that needs it, untouched since `cutoff`."""
    nothing_left = [~exists().where(model.subject_id == Subject.id)
                    for model in (Follower, Reply, Interaction, QuoteGrant, Report)]
    untouched = or_(exists().where(RemoteActor.subject_id == Subject.id, RemoteActor.fetched_at <= cutoff),
                    and_(~exists().where(RemoteActor.subject_id == Subject.id), Subject.created_at <= cutoff))
    return and_(Subject.wrapped_key.is_not(None), untouched, *nothing_left)


async def purge_inactive_people(session: AsyncSession, vault: Vault, policy: RetentionPolicy,
                                now: datetime) -> int:
    """Crypto-shred people who no longer follow, reply or interact: their actor record and key go; the
    pseudonym row stays (and with it an objection, if they made one)."""
    subjects = (await session.scalars(select(Subject).where(_inactive(now - policy.inactive_people)))).all()
    for subject in subjects:
        await erase_subject(session, vault, subject, now)
    return len(subjects)


async def purge(session: AsyncSession, vault: Vault, policy: RetentionPolicy, now: datetime) -> dict[str, int]:
    """Delete (or truncate) everything due at `now`, in the caller's transaction; counts per category."""
    counts = await purge_replies(session, policy, now)
    counts["inactive_people"] = await purge_inactive_people(session, vault, policy, now)
    counts["inbound_dedupe"] = await forget_seen_before(session, now - policy.inbound_dedupe)
    counts["security_addresses_truncated"] = await truncate_before(session, now - policy.security_addresses)
    counts["security_log"] = await forget_before(session, now - policy.security_log)
    counts["reports"] = (await session.execute(delete(Report).where(Report.received_at <= now - policy.reports)
                                               .execution_options(synchronize_session=False))).rowcount
    counts["closed_requests"] = (await session.execute(
        delete(RightsRequest).where(RightsRequest.state != "open",
                                    RightsRequest.closed_at <= now - policy.closed_requests)
        .execution_options(synchronize_session=False))).rowcount
    return counts
