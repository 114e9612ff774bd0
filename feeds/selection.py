"""Which imported items become posts: deduplicated by GUID, nothing old on the first poll.

The caller persists `remember` (GUIDs seen) across restarts and passes them back as `seen_guids`.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from feeds.items import ImportedItem

DEFAULT_MAX_NEW = 20  # a feed that suddenly changes its GUID scheme must not flood followers


class SelectReason(enum.StrEnum):
    NEW_ITEMS = "new_items"
    NOTHING_NEW = "nothing_new"
    FIRST_POLL_SKIPPED = "first_poll_skipped"
    CAPPED = "capped"


@dataclass(frozen=True, slots=True)
class Selection:
    reason: SelectReason
    description: str
    new: tuple[ImportedItem, ...]  # to post, oldest first
    remember: tuple[str, ...]  # GUIDs to store as seen (includes skipped ones)
    skipped: int = 0


def select_new(
    items: Iterable[ImportedItem],
    seen_guids: Collection[str],
    first_poll: bool,
    backfill: bool = False,
    *,
    max_new: int = DEFAULT_MAX_NEW,
) -> Selection:
    """Items not seen before, oldest first. On the first poll nothing is posted unless `backfill`, but
    every GUID is returned for remembering so that old items are never posted later either."""
    unseen = _unique_unseen(items, seen_guids)
    remember = tuple(i.guid for i in unseen)
    if not unseen:
        return Selection(SelectReason.NOTHING_NEW, "no items that were not seen before", (), ())
    if first_poll and not backfill:
        text = f"first poll: {len(unseen)} existing items remembered, none posted"
        return Selection(SelectReason.FIRST_POLL_SKIPPED, text, (), remember, len(unseen))
    ordered = chronological(unseen)
    if len(ordered) > max_new:
        skipped = len(ordered) - max_new
        text = f"{len(ordered)} new items; posting the newest {max_new}, skipping {skipped} older ones"
        return Selection(SelectReason.CAPPED, text, tuple(ordered[skipped:]), remember, skipped)
    return Selection(SelectReason.NEW_ITEMS, f"{len(ordered)} new items", tuple(ordered), remember)


def _unique_unseen(items: Iterable[ImportedItem], seen: Collection[str]) -> list[ImportedItem]:
    seen_now = set(seen)
    out = []
    for item in items:
        if item.guid not in seen_now:
            seen_now.add(item.guid)  # also drops duplicates within one document
            out.append(item)
    return out


def chronological(items: Sequence[ImportedItem]) -> list[ImportedItem]:
    """Oldest first. Feeds list newest first, so without dates reversed document order is the best
    guess; with a date on every item, the dates decide (stable for ties)."""
    reversed_doc = list(reversed(items))
    if all(i.published is not None for i in reversed_doc):
        return sorted(reversed_doc, key=lambda i: i.published)  # type: ignore[arg-type,return-value]
    return reversed_doc
