"""Finding our own post among the account's recent posts: the reconciliation of platforms that give no
idempotency handle before the answer arrives (Facebook, LinkedIn, and Instagram/Threads when the
container id was lost). The text we sent is the key, the time the first request left the lower bound.

"Not there" is believed only after a settling time: a listing can lag a few seconds behind a write, and a
wrong "not there" would mean a duplicate post, while "wait and look again" costs only time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable

from bridge.platforms.connectors.base import Outcome, Reason, Remote, Result

SETTLE = timedelta(minutes=2)
CLOCK_SLACK = timedelta(minutes=10)  # the platform's clock and ours need not agree to the second


def same_text(a: str, b: str) -> bool:
    return " ".join(str(a or "").split()) == " ".join(str(b or "").split())


def find_post(items: Iterable, text: str, since: datetime | None, text_of: Callable[[dict], str],
              time_of: Callable[[dict], datetime | None], remote_of: Callable[[dict], Remote]) -> Remote | None:
    """The first listed post with our text, created after our first request left (give or take)."""
    for item in items:
        if not isinstance(item, dict) or not same_text(text_of(item), text):
            continue
        created = time_of(item)
        if since is None or created is None or created >= since - CLOCK_SLACK:
            return remote_of(item)
    return None


def absent(since: datetime | None, now: datetime) -> Result:
    """Our post is not in the listing: NOT_FOUND once the listing had time to settle, else look again."""
    if since is not None and now - since >= SETTLE:
        return Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, "not among the account's recent posts")
    return Result(Outcome.UNKNOWN, Reason.TIMEOUT, "not listed yet; looking again shortly")


def uncertain(result: Result) -> Result:
    """A reconciliation that could not look must leave the send "unknown": were it reported as
    unavailable or rate limited, the send would be queued as if nothing had left, and posted again."""
    if result.outcome in (Outcome.UNAVAILABLE, Outcome.RATE_LIMITED):
        return Result(Outcome.UNKNOWN, result.reason, result.detail, retry_at=result.retry_at)
    return result
