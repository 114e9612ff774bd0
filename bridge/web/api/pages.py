"""Mastodon's pagination: `max_id`, `since_id`, `min_id` and `limit` in, a `Link` header out.

As Mastodon sends it: `<…?max_id=OLDEST>; rel="next", <…?min_id=NEWEST>; rel="prev"` on every page
that has items, with the request's other listed parameters (`limit`, `local`, …) kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.web.api.request import MAX_ID, Params, api_error


@dataclass(frozen=True)
class Cursor:
    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int


def read_cursor(params: Params, default: int = 20) -> Cursor:
    """The cursor, with `limit` capped at twice the default as Mastodon does; unreadable values are a 400."""
    raw = params.get("limit")
    if raw not in (None, "") and not raw.isdecimal():
        raise api_error(400, "limit must be a whole number", "bad_limit")
    limit = min(max(int(raw), 1), default * 2) if raw not in (None, "") else default
    return Cursor(_id(params, "max_id"), _id(params, "since_id"), _id(params, "min_id"), limit)


def _id(params: Params, name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdecimal() or int(raw) > MAX_ID:
        raise api_error(400, f"{name} must be a status id", "bad_cursor")
    return int(raw)


async def page_ids(session: AsyncSession, query: Select, column, cursor: Cursor) -> list[int]:
    """The ids of one page, newest first. `min_id` pages upwards from it (the page right after it),
    otherwise downwards from `max_id`, stopping at `since_id`: Mastodon's `paginate_by_id`."""
    if cursor.max_id is not None:
        query = query.where(column < cursor.max_id)
    if cursor.min_id is not None:
        rows = await session.scalars(query.where(column > cursor.min_id).order_by(column.asc()).limit(cursor.limit))
        return list(reversed(rows.all()))
    if cursor.since_id is not None:
        query = query.where(column > cursor.since_id)
    return list((await session.scalars(query.order_by(column.desc()).limit(cursor.limit))).all())


def link_header(base_url: str, request: web.Request, ids: list[int], kept: tuple[str, ...] = ("limit",)) -> dict:
    """The `Link` header for a page of `ids` (none for an empty page, as Mastodon)."""
    if not ids:
        return {}
    others = [(k, v) for k, v in request.query.items() if k in kept]
    url = base_url.rstrip("/") + request.path
    older = f'<{url}?{urlencode(others + [("max_id", str(ids[-1]))])}>; rel="next"'
    newer = f'<{url}?{urlencode(others + [("min_id", str(ids[0]))])}>; rel="prev"'
    return {"Link": f"{older}, {newer}"}
