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
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.db import utcnow
from bridge.store.dialogue import AnswerTimes, answer_times
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

# Public documents answered from memory ("hit"), rendered ("miss"), or not cacheable for this request
# ("bypass": signed in); "not_modified" counts those of them answered 304. Hit ratio: hit / (hit + miss).
READ_CACHE = Counter("stadtbote_read_cache", "Public documents by how the read cache answered them",
                     ["result"], registry=REGISTRY)
_read_cache_results: dict[str, object] = {}


def count_read(result: str) -> None:
    child = _read_cache_results.get(result)
    if child is None:  # labels() takes a lock and builds a key: done once per result, not per request
        child = _read_cache_results[result] = READ_CACHE.labels(result=result)
    child.inc()


def count_delivery(outcome: str) -> None:
    DELIVERIES.labels(outcome=outcome).inc()


def count_inbox(reason: str) -> None:
    INBOX_REQUESTS.labels(reason=reason).inc()


_routes: dict[str, object] = {}


def observe_request(route: str, seconds: float) -> None:
    child = _routes.get(route)
    if child is None:  # route names are the application's own, a bounded set
        child = _routes[route] = HTTP_DURATION.labels(route=route)
    child.observe(seconds)


@dataclass(frozen=True)
class StoreFigures:
    queued: dict[str, int]  # queued jobs by kind
    oldest_wait: float  # seconds the longest-waiting due job has been due (0: none due)
    sends: dict[tuple[str, str], int]  # platform sends by (platform id, state)
    audit_entries: int
    answers: dict[str, AnswerTimes] | None = None  # per account: time to a first answer, last 30 days


ANSWER_PERIOD = timedelta(days=30)


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
    answers = await answer_times(session, now - ANSWER_PERIOD)
    return StoreFigures(queued, wait, sends, 0 if last is None else last + 1, answers)


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
        yield from answer_metrics(self.figures.answers or {})


def answer_metrics(answers: dict[str, AnswerTimes]) -> Iterator[Metric]:
    """The dialogue desk's figures per account (the authority's own account names, no person's data)."""
    times = GaugeMetricFamily("stadtbote_dialogue_first_answer_seconds",
                              "Time from a citizen's reply to the first answer, replies of the last 30 days",
                              labels=["account", "quantile"])
    answered = GaugeMetricFamily("stadtbote_dialogue_answered_replies",
                                 "Replies of the last 30 days that got an answer", labels=["account"])
    waiting = GaugeMetricFamily("stadtbote_dialogue_waiting_replies",
                                "Replies of the last 30 days still waiting for an answer", labels=["account"])
    for account, figures in sorted(answers.items()):
        for quantile, value in (("0.5", figures.median), ("0.9", figures.p90)):
            if value is not None:
                times.add_metric([account, quantile], value)
        answered.add_metric([account], figures.answered)
        waiting.add_metric([account], figures.waiting)
    yield times
    yield answered
    yield waiting


def exposition(figures: StoreFigures) -> bytes:
    """This process's counters and the database's figures, in the text format."""
    store = CollectorRegistry(auto_describe=False)
    store.register(StoreCollector(figures))
    return process_exposition() + generate_latest(store)


def process_exposition() -> bytes:
    """This process's counters only: what a worker process reports (the database's figures come once, from
    serve, so that summing over processes never counts them twice)."""
    return generate_latest(REGISTRY)
