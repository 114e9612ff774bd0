"""A worker wired to the platform fakes over a real database, for the mirroring scenario tests: Bluesky, Mastodon
and Telegram (`bridge` fixture), and Facebook, Instagram, Threads, LinkedIn and X (`start_more`)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

import pytest

from sqlalchemy import select, update

from bridge.platforms import backfeed, jobs as platform_jobs
from bridge.publishing import posts
from bridge.publishing.uploads import upload_image
from bridge.store.db import utcnow
from bridge.runtime.federation import open_federation
from bridge.handlers import all_handlers
from bridge.store.models import Job, JobState, Post, Role
from bridge.store.platforms import PlatformAccount, PlatformSend
from bridge.queue.worker import Worker, WorkerContext
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded
from fakes.linkedin import FakeLinkedIn
from fakes.meta import FakeFacebook, FakeInstagram, FakeThreads
from fakes.platform_servers import FakeBluesky, FakeMastodon, FakeTelegram
from fakes.x import FakeX
from testkit import add_user

TRANSFER = {"recipient": "Operator Inc.", "country": "US", "transfer_mechanism": "SCC"}
PLATFORMS = [
    {"id": "bsky", "kind": "bluesky", "api_base": "http://bsky.social", "handle": "stadt.bsky.social",
     "app_password": "app-pass", "appview": "http://public.api.bsky.app", **TRANSFER},
    {"id": "masto", "kind": "mastodon", "api_base": "http://mastodon.example", "access_token": "mastodon-token",
     **TRANSFER},
    {"id": "tg", "kind": "telegram", "api_base": "http://api.telegram.org", "bot_token": "123:ABC",
     "chat_id": "@stadt", "discussion_chat_id": "-1001", **TRANSFER},
]


@dataclass
class Bridge:
    config: object
    sessions: object
    worker: Worker
    clock: Clock
    bluesky: FakeBluesky
    mastodon: FakeMastodon
    telegram: FakeTelegram
    user_id: int

    async def post(self, text: str, mirrors=("bsky", "masto", "tg")) -> int:
        async with self.sessions.begin() as s:
            user = await s.get(posts.User, self.user_id)
            result = await posts.create_post(s, self.config, user, posts.Draft("stadt", text, mirrors=tuple(mirrors)))
            assert result.ok, result.reason
            return result.post.id

    async def run(self) -> None:
        await self.worker.run_until_idle()

    async def make_due(self, kind: str) -> None:
        """Brings delayed jobs (a retry, the next backfeed) forward instead of sleeping."""
        async with self.sessions.begin() as s:
            await s.execute(update(Job).where(Job.kind == kind, Job.state == JobState.QUEUED).values(run_at=utcnow()))

    async def send(self, post_id: int, platform_id: str) -> PlatformSend:
        async with self.sessions() as s:
            return await s.scalar(select(PlatformSend).where(PlatformSend.post_id == post_id,
                                                             PlatformSend.platform_id == platform_id))

    async def account(self, platform_id: str) -> PlatformAccount | None:
        async with self.sessions() as s:
            return await s.get(PlatformAccount, platform_id)

    async def edit(self, post_id: int, text: str) -> None:
        async with self.sessions.begin() as s:
            user = await s.get(posts.User, self.user_id)
            post = await s.get(Post, post_id)
            result = await posts.edit_post(s, self.config, user, post, posts.Draft("stadt", text, mirrors=()))
            assert result.ok, result.reason

    async def delete(self, post_id: int) -> None:
        async with self.sessions.begin() as s:
            user = await s.get(posts.User, self.user_id)
            assert (await posts.delete_post(s, user, await s.get(Post, post_id))).ok


async def start_bridge(make_config, sessions, aiohttp_server, password_hash, **overrides) -> tuple[Bridge, list]:
    fakes = FakeBluesky(), FakeMastodon(), FakeTelegram()
    hosts = ("bsky.social", "mastodon.example", "api.telegram.org")
    resolver = MapResolver()
    for host, fake in zip(hosts, fakes):
        resolver.mapping[host] = ("127.0.0.1", (await aiohttp_server(fake.app())).port)
    resolver.mapping["public.api.bsky.app"] = resolver.mapping["bsky.social"]
    config = make_config(platforms=overrides.get("platforms", PLATFORMS))
    federation = await open_federation(config, b"k" * 32, resolver=resolver, public_overrides=("127.0.0.0/8",))
    await federation.http.close()
    federation.http = guarded(resolver, total_timeout=QUICK_TIMEOUT)
    clock = Clock(utcnow())
    handlers = {**all_handlers(), **platform_jobs.handlers(clock), **backfeed.handlers(clock)}
    worker = Worker(WorkerContext(config, sessions, federation), handlers=handlers)
    async with sessions.begin() as s:
        user = await add_user(s, "anna", Role.ADMIN, ["stadt"], password_hash)
    return Bridge(config, sessions, worker, clock, *fakes, user.id), [federation]


@pytest.fixture
async def bridge(make_config, sessions_only, aiohttp_server, test_password_hash):
    """The worker and the three platform fakes (import this fixture into a test module to use it)."""
    bridge, closing = await start_bridge(make_config, sessions_only, aiohttp_server, test_password_hash)
    yield bridge
    for federation in closing:
        await federation.close()


MORE_PLATFORMS = [  # Facebook, Instagram, Threads, LinkedIn and X
    {"id": "fb", "kind": "facebook", "api_base": "http://graph.facebook.com/v25.0", "page_id": "112233",
     "access_token": "page-token", **TRANSFER},
    {"id": "ig", "kind": "instagram", "api_base": "http://graph.instagram.com/v25.0",
     "ig_user_id": "17841400000000001", "access_token": "ig-token", **TRANSFER},
    {"id": "th", "kind": "threads", "api_base": "http://graph.threads.net/v1.0", "threads_user_id": "me",
     "access_token": "threads-token", **TRANSFER},
    {"id": "li", "kind": "linkedin", "api_base": "http://api.linkedin.com", "organization_id": "2414183",
     "access_token": "li-token", "oauth_base": "http://www.linkedin.com", **TRANSFER},
    {"id": "x", "kind": "x", "api_base": "http://api.x.com", "client_id": "app", "access_token": "x-token",
     "refresh_token": "x-refresh", "read_replies": True, **TRANSFER},
]
ALL = tuple(p["id"] for p in MORE_PLATFORMS)
HOSTS = {"fb": ("graph.facebook.com",), "ig": ("graph.instagram.com",), "th": ("graph.threads.net",),
         "li": ("api.linkedin.com", "www.linkedin.com"), "x": ("api.x.com",)}


def photo_jpeg(size=(1080, 1080)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, "JPEG")
    return out.getvalue()


async def post_with_image(bridge: Bridge, text: str, alt: str, mirrors=ALL) -> int:
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        upload = await upload_image(s, bridge.config, user, "stadt", photo_jpeg(), alt=alt)
        assert upload.ok, upload.description
        draft = posts.Draft("stadt", text, media_ids=(upload.media.id,), mirrors=tuple(mirrors))
        result = await posts.create_post(s, bridge.config, user, draft)
        assert result.ok, result.reason
        return result.post.id


async def start_more(make_config, sessions, aiohttp_server, password_hash) -> tuple[Bridge, list]:
    fakes = {"fb": FakeFacebook(), "ig": FakeInstagram(), "th": FakeThreads(), "li": FakeLinkedIn(), "x": FakeX()}
    resolver = MapResolver()
    for platform_id, fake in fakes.items():
        port = (await aiohttp_server(fake.app())).port
        for host in HOSTS[platform_id]:
            resolver.mapping[host] = ("127.0.0.1", port)
    config = make_config(platforms=MORE_PLATFORMS)
    federation = await open_federation(config, b"k" * 32, resolver=resolver, public_overrides=("127.0.0.0/8",))
    await federation.http.close()
    federation.http = guarded(resolver, total_timeout=QUICK_TIMEOUT)
    clock = Clock(utcnow())
    handlers = {**all_handlers(), **platform_jobs.handlers(clock), **backfeed.handlers(clock)}
    worker = Worker(WorkerContext(config, sessions, federation), handlers=handlers)
    async with sessions.begin() as s:
        user = await add_user(s, "anna", Role.ADMIN, ["stadt"], password_hash)
    bridge = Bridge(config, sessions, worker, clock, None, None, None, user.id)
    bridge.fakes = fakes
    return bridge, [federation]
