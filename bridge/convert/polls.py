"""A poll in the shapes others read: the AS2 `Question` fields exactly as Mastodon serialises them, the
Mastodon API's `poll` object, the results for pages and feeds, and the council's CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from typing import Any

from activitypub.vocab import iso
from bridge.store.polls import Poll

MAX_OPTIONS = 4
MAX_OPTION_CHARACTERS = 50
MIN_EXPIRATION = 300  # seconds: five minutes
MAX_EXPIRATION = 2_629_746  # seconds: one month, as Mastodon


def limits() -> dict[str, int]:
    """Mastodon's `configuration.polls`, which clients read before they offer a poll."""
    return {"max_options": MAX_OPTIONS, "max_characters_per_option": MAX_OPTION_CHARACTERS,
            "min_expiration": MIN_EXPIRATION, "max_expiration": MAX_EXPIRATION}


def totals_shown(poll: Poll, now: datetime) -> bool:
    """Mastodon's `show_totals_now?`: hidden totals appear when the poll has ended."""
    return poll.closed(now) or not poll.hide_totals


def question_fields(poll: Poll, now: datetime) -> dict[str, Any]:
    """What turns a Note into Mastodon's Question: `oneOf`/`anyOf` with each option's
    `replies.totalItems`, `endTime`, `closed` once ended, and `votersCount`."""
    shown = totals_shown(poll, now)
    options = [{"type": "Note", "name": title,
                "replies": {"type": "Collection", "totalItems": count if shown else None}}
               for title, count in zip(poll.options, poll.counts)]
    fields: dict[str, Any] = {"type": "Question", "anyOf" if poll.multiple else "oneOf": options}
    if poll.expires_at is not None:
        fields["endTime"] = iso(poll.expires_at)
        if poll.closed(now):
            fields["closed"] = iso(poll.expires_at)
    fields["votersCount"] = poll.voters_count
    return fields


def _api_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def poll_to_api(poll: Poll, now: datetime) -> dict[str, Any]:
    """Mastodon's Poll entity. Our own account cannot vote, so `voted` is false and `own_votes` empty."""
    shown = totals_shown(poll, now)
    return {
        "id": str(poll.post_id),
        "expires_at": _api_time(poll.expires_at),
        "expired": poll.closed(now),
        "multiple": poll.multiple,
        "votes_count": poll.votes_count,
        "voters_count": poll.voters_count,
        "voted": False,
        "own_votes": [],
        "options": [{"title": title, "votes_count": count if shown else None}
                    for title, count in zip(poll.options, poll.counts)],
        "emojis": [],
    }


@dataclass(frozen=True)
class OptionResult:
    title: str
    votes: int | None  # None while totals are hidden
    percent: int  # of all votes (multiple choice: of all choices), rounded; 0 while hidden

    @property
    def width(self) -> int:
        return max(self.percent, 1) if self.votes else 0


@dataclass(frozen=True)
class PollResults:
    options: tuple[OptionResult, ...]
    votes: int
    voters: int
    multiple: bool
    closed: bool
    shown: bool
    ends_at: datetime | None


def results(poll: Poll, now: datetime) -> PollResults:
    shown, total = totals_shown(poll, now), poll.votes_count
    options = tuple(OptionResult(title, count if shown else None,
                                 round(100 * count / total) if shown and total else 0)
                    for title, count in zip(poll.options, poll.counts))
    return PollResults(options, total, poll.voters_count, poll.multiple, poll.closed(now), shown, poll.expires_at)


@dataclass(frozen=True)
class PlatformPollResults:
    """A platform's own poll of the mirrored post, as that platform counted it on `fetched_at`: shown and
    exported beside the fediverse tally, never added to it (one person may have voted in both)."""

    platform: str  # the product's name (Telegram, Mastodon, X)
    source: str  # the configured platform account's id
    options: tuple[OptionResult, ...]
    votes: int
    fetched_at: datetime
    voters: int | None = None  # people, where the platform says


def platform_results(poll: Poll, platform: str, source: str, votes: tuple[int, ...] | list[int],
                     fetched_at: datetime, now: datetime, voters: int | None = None) -> PlatformPollResults | None:
    """A platform's counts in our option order; None while our totals are hidden or when the numbers do
    not match the options (a platform that dropped or added one)."""
    if not totals_shown(poll, now) or len(votes) != len(poll.options):
        return None
    total = sum(votes)
    options = tuple(OptionResult(title, count, round(100 * count / total) if total else 0)
                    for title, count in zip(poll.options, votes))
    return PlatformPollResults(platform, source, options, total, fetched_at, voters)


def results_html(poll: Poll, now: datetime) -> str:
    """The results inside a feed entry: language-neutral numbers, no script, no style."""
    result = results(poll, now)
    items = "".join(f"<li>{escape(o.title)}" + (f": {o.votes} ({o.percent} %)" if o.votes is not None else "")
                    + "</li>" for o in result.options)
    return f"<ul>{items}</ul>"


FEDIVERSE = "fediverse"  # the CSV's source of our own tally


def results_csv(poll: Poll, now: datetime, platforms: tuple[PlatformPollResults, ...] = ()) -> str:
    """The council's copy: one row per option, then the voters; no person in it, only counts. Each row names
    its source: our own tally (`fediverse`) first, then each platform's own poll with the time its counts
    were fetched (`as_of`) — separate rows, never summed."""
    result = results(poll, now)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["source", "option", "votes", "percent", "as_of"])
    for option in result.options:
        writer.writerow([FEDIVERSE, option.title, "" if option.votes is None else option.votes, option.percent, ""])
    writer.writerow([FEDIVERSE, "voters", result.voters, "", ""])
    writer.writerow([FEDIVERSE, "closed", "yes" if result.closed else "no", "",
                     iso(result.ends_at) if result.ends_at else ""])
    for platform in platforms:
        source = f"{platform.platform} ({platform.source})"
        for option in platform.options:
            writer.writerow([source, option.title, option.votes, option.percent, iso(platform.fetched_at)])
        writer.writerow([source, "votes", platform.votes, "", iso(platform.fetched_at)])
        if platform.voters is not None:
            writer.writerow([source, "voters", platform.voters, "", iso(platform.fetched_at)])
    return out.getvalue()
