"""Writing the reach counters: page views drained from memory, feed subscribers announced by aggregators."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.db import upsert_dialect
from bridge.store.reach import FeedSubscribers, PageView

# "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; )", "NewsBlur Feed Fetcher - 5 subscribers
# - http://…", "Feedbin feed-id:1 - 3 subscribers", "theoldreader.com (3 subscribers; feed-id=…)"
_SUBSCRIBERS = re.compile(r"(\d{1,9})\s+(?:subscribers?|readers?)\b", re.IGNORECASE)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.\-]{0,39}")


def aggregator_of(user_agent: str) -> tuple[str, int] | None:
    """(aggregator name, subscribers) from a feed fetcher's user agent; None for anyone else. Only the
    software's name is kept, never the rest of the string."""
    counted = _SUBSCRIBERS.search(user_agent or "")
    name = _NAME.match(user_agent.strip()) if counted else None
    if counted is None or name is None:
        return None
    return name.group(0), int(counted.group(1))


async def flush_page_views(session: AsyncSession, counts: dict[tuple[str, date], int]) -> int:
    """Adds the drained counts to the stored ones (one upsert per page and day); returns the pages written."""
    if not counts:
        return 0
    dialect = upsert_dialect(session.bind)
    for (path, day), views in counts.items():
        statement = dialect.insert(PageView).values(path=path[:300], day=day, views=views)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["path", "day"], set_={"views": PageView.views + statement.excluded.views}))
    return len(counts)


async def record_subscribers(session: AsyncSession, feed: str, day: date, aggregator: str, subscribers: int) -> None:
    """The day's figure is the highest the aggregator announced: fetchers poll many times a day."""
    dialect = upsert_dialect(session.bind)
    statement = dialect.insert(FeedSubscribers).values(feed=feed[:300], day=day, aggregator=aggregator,
                                                       subscribers=subscribers)
    greater = statement.excluded.subscribers > FeedSubscribers.subscribers
    await session.execute(statement.on_conflict_do_update(
        index_elements=["feed", "day", "aggregator"], set_={"subscribers": statement.excluded.subscribers},
        where=greater))
