"""The reach of an account and of its posts, from what the instance knows without watching anyone:
deliveries and the servers that accepted them, followers per server (small servers folded together),
likes, boosts, quotes, replies and votes, page views per page and day, feed subscribers per aggregator.

What each figure counts, and what it deliberately does not, is said in docs/reach.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.uris import Uris
from bridge.config.model import Config
from bridge.convert.mastodon import InteractionCounts
from bridge.convert.polls import PlatformPollResults, platform_results
from bridge.delivery.jobs import DELIVER_JOB, Verb
from bridge.platforms.connections import TITLES
from bridge.store.models import Actor, Job, JobState, Post, PostState
from bridge.store.platforms import PlatformSend
from bridge.store.polls import Poll
from bridge.store.reach import FeedSubscribers, PageView
from consent.interactions import count_for
from consent.models import Follower, QuoteGrant, RemoteActor

FOLD_BELOW = 5  # followers: a server with fewer is counted under "other", so no one is singled out
OTHER = "other"
@dataclass(frozen=True)
class ServerShare:
    server: str  # a host name, or OTHER for the folded small servers
    followers: int


@dataclass(frozen=True)
class PlatformFigures:
    """A platform's own public counts of the mirrored post, as it reported them on `fetched_at`: kept apart
    from the fediverse figures and never added to them (a boost of the mirror on Mastodon may also be one here)."""

    platform: str  # the configured platform account's id
    counts: dict[str, int]
    fetched_at: datetime
    poll: tuple[int, ...] | None = None  # votes per option of the platform's own poll
    poll_voters: int | None = None  # people who voted there, where the platform says

    @property
    def poll_votes(self) -> int | None:
        return None if self.poll is None else sum(self.poll)


@dataclass(frozen=True)
class PostReach:
    post_id: int
    published_at: datetime | None
    excerpt: str
    servers_reached: int  # distinct servers that accepted the post (its Create)
    deliveries_accepted: int
    deliveries_refused: int  # refused, gone or given up; still waiting ones are in neither
    likes: int
    boosts: int
    quotes: int
    replies: int
    voters: int | None  # None: the post has no poll
    page_views: int
    platforms: tuple[PlatformFigures, ...] = ()


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True)
class SubscriberCount:
    feed: str
    aggregator: str
    subscribers: int
    day: date


@dataclass(frozen=True)
class AccountReach:
    actor: str
    since: date
    until: date
    followers: int
    servers: tuple[ServerShare, ...]
    posts: tuple[PostReach, ...]
    page_views: tuple[DayCount, ...]
    subscribers: tuple[SubscriberCount, ...]

    @property
    def page_views_total(self) -> int:
        return sum(d.count for d in self.page_views)

    @property
    def subscribers_total(self) -> int:
        return sum(s.subscribers for s in self.subscribers)


def fold(counts: dict[str, int], below: int = FOLD_BELOW) -> tuple[ServerShare, ...]:
    """Servers with at least `below` followers by name (largest first), the rest together as OTHER."""
    named = sorted(((s, n) for s, n in counts.items() if n >= below), key=lambda item: (-item[1], item[0]))
    other = sum(n for n in counts.values() if n < below)
    return tuple(ServerShare(s, n) for s, n in named) + ((ServerShare(OTHER, other),) if other else ())


async def followers_by_server(session: AsyncSession, actor_name: str, below: int = FOLD_BELOW
                              ) -> tuple[ServerShare, ...]:
    rows = await session.execute(select(RemoteActor.domain, func.count(Follower.id))
                                 .join(Follower, Follower.subject_id == RemoteActor.subject_id)
                                 .where(Follower.actor_name == actor_name).group_by(RemoteActor.domain))
    return fold({domain: count for domain, count in rows}, below)


async def interaction_counts(session: AsyncSession, post_ids: list[int]) -> dict[int, InteractionCounts]:
    """Replies, boosts and likes per post, as the Mastodon API's counters: numbers, never who. The counting
    rule (which replies count) is consent's `count_for`, so the API, the reach page and the store agree."""
    counts = await count_for(session, post_ids)
    return {i: InteractionCounts(replies=c["replies"], reblogs=c["boosts"], favourites=c["likes"])
            for i, c in counts.items()}


async def _deliveries(session: AsyncSession, post_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Per post: (servers that accepted its Create, deliveries accepted, deliveries refused or given up),
    from the delivery jobs (kept for the configured days of finished jobs)."""
    reached: dict[int, set[str]] = defaultdict(set)
    accepted: dict[int, int] = defaultdict(int)
    refused: dict[int, int] = defaultdict(int)
    rows = await session.execute(select(Job.post_id, Job.state, Job.last_error, Job.payload).where(
        Job.kind == DELIVER_JOB, Job.post_id.in_(post_ids), Job.state.in_((JobState.DONE, JobState.FAILED))))
    for post_id, state, error, payload in rows:
        if state == JobState.DONE and error is None:
            accepted[post_id] += 1
            if payload.get("verb") == Verb.CREATE:
                reached[post_id].add(urlsplit(payload.get("inbox", "")).hostname or "")
        else:
            refused[post_id] += 1
    return {i: (len(reached[i]), accepted[i], refused[i]) for i in post_ids}


async def post_reach(session: AsyncSession, uris: Uris, posts: list[Post]) -> list[PostReach]:
    ids = [p.id for p in posts]
    if not ids:
        return []
    counts = await interaction_counts(session, ids)
    deliveries = await _deliveries(session, ids)
    quotes = dict((await session.execute(select(QuoteGrant.post_id, func.count())
                                         .where(QuoteGrant.post_id.in_(ids)).group_by(QuoteGrant.post_id))).all())
    voters = dict((await session.execute(select(Poll.post_id, Poll.voters_count).where(Poll.post_id.in_(ids)))).all())
    paths = {_path(uris.permalink(p.actor.name, str(p.id))): p.id for p in posts}
    views = dict((await session.execute(select(PageView.path, func.sum(PageView.views))
                                        .where(PageView.path.in_(paths)).group_by(PageView.path))).all())
    platforms = await platform_figures(session, ids)
    return [PostReach(p.id, p.published_at, _excerpt(p.text), *deliveries[p.id], counts[p.id].favourites,
                      counts[p.id].reblogs, quotes.get(p.id, 0), counts[p.id].replies, voters.get(p.id),
                      int(views.get(_path(uris.permalink(p.actor.name, str(p.id))), 0)), platforms.get(p.id, ()))
            for p in posts]


async def platform_figures(session: AsyncSession, post_ids: list[int]) -> dict[int, tuple[PlatformFigures, ...]]:
    """Per post, the last counts each platform reported (fetched by backfeed), by platform id."""
    rows = (await session.scalars(select(PlatformSend).where(
        PlatformSend.post_id.in_(post_ids), PlatformSend.metrics_at.is_not(None))
        .order_by(PlatformSend.platform_id))).all()
    found: dict[int, list[PlatformFigures]] = defaultdict(list)
    for row in rows:
        stored = dict(row.metrics or {})
        poll, voters = stored.pop("poll", None), stored.pop("poll_voters", None)
        found[row.post_id].append(PlatformFigures(row.platform_id, stored, row.metrics_at,
                                                  tuple(poll) if isinstance(poll, list) else None,
                                                  voters if isinstance(voters, int) else None))
    return {i: tuple(f) for i, f in found.items()}


async def platform_polls(session: AsyncSession, config: Config, poll: Poll, now: datetime
                         ) -> tuple[PlatformPollResults, ...]:
    """The platforms' own polls of the post (their last counts, by platform), named by product, for the page
    and the council's CSV: beside the fediverse tally, never added to it."""
    found = []
    for figures in (await platform_figures(session, [poll.post_id])).get(poll.post_id, ()):
        platform = next((p for p in config.platforms if p.id == figures.platform), None)
        title = TITLES.get(platform.kind, platform.kind) if platform is not None else figures.platform
        if figures.poll is not None and (result := platform_results(
                poll, title, figures.platform, figures.poll, figures.fetched_at, now, figures.poll_voters)) is not None:
            found.append(result)
    return tuple(found)


async def account_reach(session: AsyncSession, uris: Uris, actor_name: str, until: date, days: int = 30,
                        posts: int = 30) -> AccountReach:
    since = until - timedelta(days=days - 1)
    followers = await followers_by_server(session, actor_name)
    recent = list((await session.scalars(
        select(Post).join(Actor, Actor.id == Post.actor_id)
        .where(Actor.name == actor_name, Post.state == PostState.PUBLISHED)
        .order_by(Post.published_at.desc()).limit(posts))).all())
    profile = _path(uris.profile(actor_name))
    per_day = dict((await session.execute(
        select(PageView.day, func.sum(PageView.views))
        .where(PageView.day >= since, PageView.day <= until,
               (PageView.path == profile) | PageView.path.like(f"{profile}/%"))
        .group_by(PageView.day))).all())
    page_views = tuple(DayCount(since + timedelta(days=i), int(per_day.get(since + timedelta(days=i), 0)))
                       for i in range(days))
    return AccountReach(actor_name, since, until, sum(s.followers for s in followers), followers,
                        tuple(await post_reach(session, uris, recent)), page_views,
                        await _subscribers(session, [f"{profile}.{k}" for k in ("rss", "atom", "json")], since,
                                           until))


async def _subscribers(session: AsyncSession, feeds: list[str], since: date, until: date
                       ) -> tuple[SubscriberCount, ...]:
    """The latest figure of each aggregator for each feed within the period."""
    rows = (await session.scalars(select(FeedSubscribers).where(
        FeedSubscribers.feed.in_(feeds), FeedSubscribers.day >= since, FeedSubscribers.day <= until)
        .order_by(FeedSubscribers.day))).all()
    latest = {(r.feed, r.aggregator): SubscriberCount(r.feed, r.aggregator, r.subscribers, r.day) for r in rows}
    return tuple(sorted(latest.values(), key=lambda s: (-s.subscribers, s.aggregator, s.feed)))


def _path(url: str) -> str:
    return urlsplit(url).path


def _excerpt(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
