"""Data-subject requests (access, erasure, objection) and their deadline: one month after receipt
(Art. 12(3) GDPR; extendable by two months with reasons, which the DPO records outside this tool)."""

from __future__ import annotations

import calendar
import enum
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models_privacy import RightsRequest


class RequestKind(enum.StrEnum):
    ACCESS = "access"  # Art. 15
    ERASURE = "erasure"  # Art. 17
    OBJECTION = "objection"  # Art. 21


class RequestState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


def one_month_after(moment: datetime) -> datetime:
    """The same day of the next month, or its last day (31 Jan → 28/29 Feb), as Art. 12(3) is read."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def is_overdue(request: RightsRequest, now: datetime | None = None) -> bool:
    return request.state == RequestState.OPEN and request.due_at < (now or datetime.now(timezone.utc))


async def open_request(session: AsyncSession, kind: RequestKind, subject_ref: str | None,
                       received_at: datetime) -> RightsRequest:
    request = RightsRequest(kind=str(kind), subject_ref=subject_ref, state=str(RequestState.OPEN),
                            received_at=received_at, due_at=one_month_after(received_at))
    session.add(request)
    await session.flush()
    return request


async def close_request(session: AsyncSession, request: RightsRequest, outcome: str,
                        now: datetime | None = None) -> None:
    request.state, request.outcome = str(RequestState.DONE), outcome[:32]
    request.closed_at = now or datetime.now(timezone.utc)
    await session.flush()


async def close_open_requests(session: AsyncSession, kind: RequestKind, subject_ref: str, outcome: str,
                              now: datetime | None = None) -> list[int]:
    """Answering a person closes their open requests of that kind; returns the ids closed."""
    rows = (await session.scalars(select(RightsRequest).where(
        RightsRequest.kind == str(kind), RightsRequest.subject_ref == subject_ref,
        RightsRequest.state == str(RequestState.OPEN)))).all()
    for row in rows:
        await close_request(session, row, outcome, now)
    return [row.id for row in rows]


async def list_requests(session: AsyncSession, state: RequestState | None = None) -> list[RightsRequest]:
    query = select(RightsRequest).order_by(RightsRequest.due_at, RightsRequest.id)
    if state is not None:
        query = query.where(RightsRequest.state == str(state))
    return list((await session.scalars(query)).all())
