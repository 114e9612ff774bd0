"""What a job handler is given (WorkerContext) and what it answers (JobOutcome), apart from the table
operations, so that modules declaring handlers need not import the queue's machinery."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.config.model import Config
from bridge.runtime.federation import Federation
from bridge.store.models import Job


class JobStatus(enum.StrEnum):
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"
    DEFER = "defer"  # not yet: another job must run first; no attempt is counted


class JobReason(enum.StrEnum):
    """The queue's own reasons; handlers answer with their capability's reason enums."""

    UNKNOWN_JOB_KIND = "unknown_job_kind"
    HANDLER_CRASHED = "handler_crashed"
    UNSPECIFIED = "unspecified"

    @property
    def description(self) -> str:
        return {JobReason.UNKNOWN_JOB_KIND: "no handler knows this kind of job",
                JobReason.HANDLER_CRASHED: "the handler raised an exception (its class is recorded, never its "
                                           "message)",
                JobReason.UNSPECIFIED: "the handler gave no reason"}[self]


# A reason code of a job's outcome: a member of a `StrEnum` that has a `description`.
Reason = enum.StrEnum


@dataclass(frozen=True)
class JobOutcome:
    status: JobStatus
    reason: Reason | None = None
    retry_at: datetime | None = None
    detail: str = ""  # a short code beside the reason (an HTTP status, an exception class), never a message

    def __post_init__(self) -> None:
        if self.reason is not None and not (isinstance(self.reason, enum.StrEnum)
                                            and isinstance(getattr(self.reason, "description", None), str)):
            raise TypeError(f"a job's reason must be a StrEnum member with a description, not {self.reason!r}")

    @property
    def code(self) -> str:
        """What the job row records as its last error: the reason, and the detail if any."""
        reason = str(self.reason or JobReason.UNSPECIFIED)
        return f"{reason}:{self.detail}" if self.detail else reason


@dataclass(frozen=True)
class WorkerContext:
    config: Config
    sessions: async_sessionmaker[AsyncSession]
    federation: Federation | None = None  # None only in tests that run no federation jobs
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict, repr=False, compare=False)

    def lock(self, name: str) -> asyncio.Lock:
        """A lock per name within this worker (e.g. one platform account: its session must not be
        refreshed by two jobs at once, or one of them saves a token the platform already rotated)."""
        return self._locks.setdefault(name, asyncio.Lock())


class Settled:
    """Jobs of a running batch that are done already: the worker records them as they come, so that a worker
    killed in the middle of a batch repeats only what was in flight, not what the batch had finished."""

    def __init__(self) -> None:
        self._done: list[int] = []
        self.changed = asyncio.Event()

    def done(self, job: Job) -> None:
        self._done.append(job.id)
        self.changed.set()

    def take(self) -> list[int]:
        taken, self._done = self._done, []
        self.changed.clear()
        return taken


Handler = Callable[[WorkerContext, AsyncSession, Job], Awaitable[JobOutcome]]
# Runs many claimed jobs of one kind at once (deliveries: one document built and signed per batch, one
# commit per batch); returns one outcome per job, in order, and may tell `Settled` of jobs done early.
# Its effects are not in the job's transaction.
BatchHandler = Callable[[WorkerContext, list[Job], Settled], Awaitable[list[JobOutcome]]]
