"""WebSub publisher pings: after a post is published, tell the configured hub which feeds changed.

`publish()` enqueues one job per post (only when a hub is configured); the worker sends one form per
topic (each format of the account's, the instance's and each hashtag's feed is its own topic) through
the guarded HTTP client. A hub that fails is retried with the queue's back-off; nothing else waits.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.guard import GuardPolicy, RequestFailed, RequestResult, open_guarded_session
from activitypub.uris import Uris
from bridge.config.model import Config
from bridge.store.models import Post, PostState
from bridge.convert.text import parse_text
from feeds.model import FeedKind
from feeds.websub import hub_ping_forms

WEBSUB_PING_JOB = "websub_ping"
FORM_TYPE = "application/x-www-form-urlencoded"


class HttpClient(Protocol):
    """What both the guarded session and a test double offer (activitypub.guard.GuardedSession)."""

    async def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                      body: bytes | None = None, max_body: int | None = None) -> RequestResult: ...


class PingReason(enum.StrEnum):
    SENT = "sent"
    NO_HUB = "no_hub"
    NOT_PUBLISHED = "not_published"
    HUB_UNREACHABLE = "hub_unreachable"
    HUB_REFUSED = "hub_refused"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    PingReason.SENT: "the hub accepted a ping for every feed of the post",
    PingReason.NO_HUB: "no WebSub hub is configured",
    PingReason.NOT_PUBLISHED: "the post is no longer published; its feeds will be pinged by the next change",
    PingReason.HUB_UNREACHABLE: "the hub could not be reached; retried later",
    PingReason.HUB_REFUSED: "the hub answered with an error status; retried later",
}


@dataclass(frozen=True)
class PingResult:
    reason: PingReason
    topics: int = 0

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self.reason]

    @property
    def retry(self) -> bool:
        return self.reason in (PingReason.HUB_UNREACHABLE, PingReason.HUB_REFUSED)


def topics(post: Post, uris: Uris) -> list[str]:
    """Every feed URL the post appears in, in all three formats."""
    tags = [t.lower() for t in parse_text(post.text).hashtags]
    urls = []
    for kind in FeedKind:
        urls.append(uris.feed(post.actor.name, kind.value))
        urls.append(uris.instance_feed(kind.value))
        urls.extend(uris.tag_feed(tag, kind.value) for tag in tags)
    return urls


async def ping(config: Config, session: AsyncSession, post_id: int, http: HttpClient) -> PingResult:
    hub = config.feeds.websub_hub
    if not hub:
        return PingResult(PingReason.NO_HUB)
    post = await session.get(Post, post_id)
    if post is None or post.state != PostState.PUBLISHED:
        return PingResult(PingReason.NOT_PUBLISHED)
    pings = hub_ping_forms(hub, topics(post, Uris.for_base(config.instance.base_url)))
    for hub_ping in pings:
        answer = await http.request("POST", hub_ping.hub_url, headers={"Content-Type": FORM_TYPE},
                                    body=urlencode(hub_ping.form).encode())
        if isinstance(answer, RequestFailed):
            return PingResult(PingReason.HUB_UNREACHABLE)
        if not 200 <= answer.status < 300:
            return PingResult(PingReason.HUB_REFUSED)
    return PingResult(PingReason.SENT, len(pings))


async def ping_job(config: Config, session: AsyncSession, payload: dict, http: HttpClient | None) -> PingResult:
    """Worker entry point: `http` is the process's guarded client, or None to open one for this job."""
    async with guarded_client(config, http) as client:
        return await ping(config, session, int(payload["post_id"]), client)


@contextlib.asynccontextmanager
async def guarded_client(config: Config, http: HttpClient | None) -> AsyncIterator[HttpClient]:
    """The given client, or a guarded session opened (and closed) for one job, for processes that
    have no shared federation client."""
    if http is not None:
        yield http
        return
    session = open_guarded_session(GuardPolicy(allow_private=config.federation.allow_private_addresses))
    try:
        yield session
    finally:
        await session.close()

