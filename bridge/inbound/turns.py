"""One activity at a time per remote actor, within this process.

Two first activities of a person we do not know yet — a Follow and a reply a moment later, or the first
two replies of a thread — would otherwise both fetch the person and both create their record, and the
later commit would fail on the unique key (503, the sender retries minutes later). Taking turns costs the
second one a few milliseconds instead. Locks live only while someone holds or awaits them.
"""

from __future__ import annotations

import asyncio
import weakref


class ActorTurns:
    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def of(self, actor: str) -> asyncio.Lock:
        lock = self._locks.get(actor)
        if lock is None:
            lock = self._locks[actor] = asyncio.Lock()
        return lock

    def __len__(self) -> int:
        return len(self._locks)
