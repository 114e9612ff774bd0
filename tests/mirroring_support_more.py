"""A worker wired to the fakes of Facebook, Instagram, Threads, LinkedIn and X over a real database, for
the scenario tests of those platforms (the machinery is the one of `mirroring_support`)."""

from __future__ import annotations

import io

from PIL import Image

from bridge.platforms import backfeed, jobs as platform_jobs
from bridge.publishing import posts
from bridge.store.db import utcnow
from bridge.runtime.federation import open_federation
from bridge.handlers import all_handlers
from bridge.store.models import Role
from bridge.publishing.uploads import upload_image
from bridge.queue.worker import Worker, WorkerContext
from mirroring_support import TRANSFER, Bridge
from platform_fakes import QUICK_TIMEOUT, Clock, MapResolver, guarded
from platform_fakes_linkedin import FakeLinkedIn
from platform_fakes_meta import FakeFacebook, FakeInstagram, FakeThreads
from platform_fakes_x import FakeX
from testkit import add_user

PLATFORMS = [
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
ALL = tuple(p["id"] for p in PLATFORMS)
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
    config = make_config(platforms=PLATFORMS)
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
