"""What `GET /metrics` reports, in Prometheus' text format (`prometheus-client`).

Counters and the request histogram live in this process (`REGISTRY`) and are counted where things happen:
the inbox route, the delivery jobs, the web middleware. What the database knows (jobs waiting, platform
sends, the audit log's length) is read at scrape time with a few aggregate queries (`read_store`) and
reported by `StoreCollector`. Label values are codes from the application (job kinds, outcomes, reason
codes, route names, configured platform ids), never a person's data: no actor URIs, handles, addresses or
texts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.db import utcnow
from bridge.store.models import Job, JobState
from bridge.store.platforms import PlatformSend
from consent.models import AuditEntry

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REGISTRY = CollectorRegistry(auto_describe=True)
DELIVERIES = Counter("stadtbote_deliveries", "Activities sent to fediverse inboxes, by outcome",
                     ["outcome"], registry=REGISTRY)
INBOX_REQUESTS = Counter("stadtbote_inbox_requests", "Requests to the inboxes, by the reason code answered",
                         ["reason"], registry=REGISTRY)
HTTP_DURATION = Histogram("stadtbote_http_request_duration_seconds", "Time to answer HTTP requests, by route",
                          ["route"], registry=REGISTRY,
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


def count_delivery(outcome: str) -> None:
    DELIVERIES.labels(outcome=outcome).inc()


def count_inbox(reason: str) -> None:
    INBOX_REQUESTS.labels(reason=reason).inc()


def observe_request(route: str, seconds: float) -> None:
    HTTP_DURATION.labels(route=route).observe(seconds)


@dataclass(frozen=True)
class StoreFigures:
    queued: dict[str, int]  # queued jobs by kind
    oldest_wait: float  # seconds the longest-waiting due job has been due (0: none due)
    sends: dict[tuple[str, str], int]  # platform sends by (platform id, state)
    audit_entries: int


async def read_store(session: AsyncSession, now: datetime | None = None) -> StoreFigures:
    """Four aggregate queries, each answered from an index or a small table."""
    now = now or utcnow()
    queued = dict((await session.execute(select(Job.kind, func.count()).where(Job.state == JobState.QUEUED)
                                         .group_by(Job.kind))).all())
    earliest = await session.scalar(select(func.min(Job.run_at)).where(Job.state == JobState.QUEUED))
    sends = {(platform, state): n for platform, state, n in (await session.execute(
        select(PlatformSend.platform_id, PlatformSend.state, func.count())
        .group_by(PlatformSend.platform_id, PlatformSend.state))).all()}
    last = await session.scalar(select(func.max(AuditEntry.seq)))  # seq is gap-free from 0
    wait = max(0.0, (now - earliest).total_seconds()) if earliest is not None else 0.0
    return StoreFigures(queued, wait, sends, 0 if last is None else last + 1)


class StoreCollector(Collector):
    """The database's figures as gauges, read just before this scrape."""

    def __init__(self, figures: StoreFigures):
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        queued = GaugeMetricFamily("stadtbote_jobs_queued", "Jobs waiting in the queue, by kind", labels=["kind"])
        for kind, n in sorted(self.figures.queued.items()):
            queued.add_metric([kind], n)
        yield queued
        yield GaugeMetricFamily("stadtbote_jobs_oldest_queued_seconds",
                                "How long the longest-waiting due job has been due", value=self.figures.oldest_wait)
        sends = GaugeMetricFamily("stadtbote_platform_sends", "Posts mirrored to platforms, by platform and state",
                                  labels=["platform", "state"])
        for (platform, state), n in sorted(self.figures.sends.items()):
            sends.add_metric([platform, state], n)
        yield sends
        yield GaugeMetricFamily("stadtbote_audit_log_entries", "Entries in the tamper-evident audit log",
                                value=self.figures.audit_entries)


def exposition(figures: StoreFigures) -> bytes:
    """This process's counters and the database's figures, in the text format."""
    store = CollectorRegistry(auto_describe=False)
    store.register(StoreCollector(figures))
    return process_exposition() + generate_latest(store)


def process_exposition() -> bytes:
    """This process's counters only: what a worker process reports (the database's figures come once, from
    serve, so that summing over processes never counts them twice)."""
    return generate_latest(REGISTRY)
