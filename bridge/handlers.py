"""Which function runs each kind of job (the worker's registry) and which periodic chains a worker starts,
assembled in one place: `serve` (with its worker) and `stadtbote worker` both get them from `standard_worker`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.platforms import answers as platform_answers
from bridge.platforms import backfeed, health as platform_health, jobs as platform_jobs
from bridge.delivery import jobs as delivery
from bridge.mail import jobs as mail_jobs
from bridge.publishing import feedimport, hubping, polls, posts, profiles, videos
from bridge.config.model import Config
from bridge.runtime.accounts import refresh as refresh_accounts
from bridge.privacy import jobs as privacy_jobs
from bridge.queue.context import BatchHandler, Handler, JobOutcome, JobStatus, WorkerContext
from bridge.store.models import Job
from bridge.queue.worker import Worker
from bridge.warnings import polls as warning_polls


async def handle_publish(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    reason = await posts.publish_scheduled(session, int(job.payload["post_id"]),
                                           websub_hub=ctx.config.feeds.websub_hub)
    # A post deleted or edited back to a draft before its time is not an error: nothing to publish.
    return JobOutcome(JobStatus.DONE, None if reason is posts.PostReason.OK else reason)


async def handle_feed_poll(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    result = await feedimport.poll_job(ctx.config, session, job.payload, _http(ctx), job.id)
    # A broken feed is the feed's problem, shown to editors; the job itself succeeded and re-enqueued.
    return JobOutcome(JobStatus.DONE, result.reason)


async def handle_websub_ping(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    result = await hubping.ping_job(ctx.config, session, job.payload, _http(ctx))
    return JobOutcome(JobStatus.RETRY if result.retry else JobStatus.DONE, result.reason)


async def handle_warnings_poll(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    result = await warning_polls.poll_job(ctx.config, session, job.payload, job.id)
    # A failing source is the source's problem, shown on the admin page; the chain goes on with back-off.
    return JobOutcome(JobStatus.DONE, result.reason if result is not None else None)


def _http(ctx: WorkerContext):
    # The process's guarded client when federation is wired; otherwise the job opens its own.
    federation = getattr(ctx, "federation", None)
    return federation.http if federation is not None else None


def all_handlers() -> dict[str, Handler]:
    handlers = {posts.PUBLISH_JOB: handle_publish, feedimport.POLL_JOB: handle_feed_poll,
                hubping.WEBSUB_PING_JOB: handle_websub_ping,
                warning_polls.POLL_JOB: handle_warnings_poll, **delivery.handlers(),
                **platform_jobs.handlers(), **backfeed.handlers(), **privacy_jobs.handlers(),
                **platform_health.handlers(), **mail_jobs.handlers(), **platform_answers.handlers(),
                **polls.handlers(), **profiles.handlers(), **videos.handlers()}
    return {kind: _with_current_accounts(handler) for kind, handler in handlers.items()}


def _with_current_accounts(handler: Handler) -> Handler:
    """Each job sees the accounts and platforms as the database has them (changed in the browser meanwhile)."""
    async def run(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
        await refresh_accounts(session, ctx.config)
        return await handler(ctx, session, job)
    return run


def all_batch_handlers() -> dict[str, BatchHandler]:
    return delivery.batch_handlers()


async def start_chains(sessions: async_sessionmaker[AsyncSession], config: Config) -> list[str]:
    """Starts every periodic job chain that is not pending yet (each job then enqueues its successor): the
    retention and audit checkpoint runs, the daily platform credential check, the daily reply digest, each account's feed poll.
    Several processes starting at once never double a chain. Returns the kinds (and accounts) started."""
    async with sessions.begin() as session:
        await refresh_accounts(session, config)  # the feed polls of accounts made in the browser, too
        started = await privacy_jobs.ensure_privacy_jobs(session, config)
        if await platform_health.ensure_health_job(session, config):
            started.append(platform_health.HEALTH_JOB)
        if await mail_jobs.ensure_digest_job(session, config):
            started.append(mail_jobs.DIGEST_JOB)
        started += [f"{feedimport.POLL_JOB}:{name}" for name in await feedimport.ensure_polls(session, config)]
        started += [f"{warning_polls.POLL_JOB}:{sid}" for sid in await warning_polls.ensure_polls(session, config)]
    return started


def standard_worker(ctx: WorkerContext, **options) -> Worker:
    """A worker that runs every kind of job and, when it starts running, the periodic chains: what `serve`
    and `worker` start."""
    return Worker(ctx, all_handlers(), batch_handlers=all_batch_handlers(),
                  on_start=lambda: start_chains(ctx.sessions, ctx.config), **options)
