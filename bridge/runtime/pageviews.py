"""Page views counted in this process's memory: one number per page and day, nothing about the reader.

The web layer counts, a timer drains the counts into the database (`bridge.reach.counters.flush`). A request
that says "do not track" (`DNT: 1`) or "do not sell or share" (`Sec-GPC: 1`) is not counted at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

MAX_KEYS = 10_000  # pages per flush interval; beyond that new pages wait for the next interval


def opted_out(headers: Mapping[str, str]) -> bool:
    return headers.get("DNT", "").strip() == "1" or headers.get("Sec-GPC", "").strip() == "1"


class PageCounter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, date], int] = {}
        # (feed, day, aggregator) -> the highest subscriber count announced that day
        self._subscribers: dict[tuple[str, date, str], int] = {}

    def announce(self, feed: str, day: date, aggregator: str, subscribers: int) -> None:
        key = (feed, day, aggregator)
        if key in self._subscribers or len(self._subscribers) < MAX_KEYS:
            self._subscribers[key] = max(subscribers, self._subscribers.get(key, 0))

    def drain_subscribers(self) -> dict[tuple[str, date, str], int]:
        announced, self._subscribers = self._subscribers, {}
        return announced

    def count(self, path: str, day: date) -> bool:
        """Adds one view; False when the table is full (a flood of distinct addresses is not stored)."""
        key = (path, day)
        if key not in self._counts and len(self._counts) >= MAX_KEYS:
            return False
        self._counts[key] = self._counts.get(key, 0) + 1
        return True

    def drain(self) -> dict[tuple[str, date], int]:
        counts, self._counts = self._counts, {}
        return counts

    def restore(self, counts: dict[tuple[str, date], int]) -> None:
        """Puts back counts a failed flush could not write, so that they go with the next one."""
        for key, views in counts.items():
            self._counts[key] = self._counts.get(key, 0) + views
