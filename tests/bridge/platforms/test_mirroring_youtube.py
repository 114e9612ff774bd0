"""The send machinery with YouTube: a published video post reaches the fake once, with its captions; an edit and
a delete follow; comments come back into the consent store; a text-only post is refused with its reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bridge.platforms import backfeed, jobs as platform_jobs, sends as mirroring
from bridge.publishing import posts
from bridge.publishing.uploads import upload_video
from bridge.runtime.federation import open_federation
from bridge.handlers import all_handlers
from bridge.queue.worker import Worker, WorkerContext
from bridge.store.db import utcnow
from bridge.store.models import Role
from bridge.store.platforms import SendState
from consent.models import Reply
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded
from fakes.youtube import FakeYouTube, youtube_thread
from support.mirroring import TRANSFER, Bridge
from support.videos import CAPTIONS, mp4_clip
from testkit import add_user

YOUTUBE = {"id": "yt", "kind": "youtube", "api_base": "http://www.googleapis.com", "client_id": "yt-client",
           "client_secret": "yt-secret", "refresh_token": "yt-refresh", "oauth_base": "http://oauth2.googleapis.com",
           "privacy_status": "public", **TRANSFER}


@pytest.fixture
async def bridge(make_config, sessions_only, aiohttp_server, test_password_hash):
    fake = FakeYouTube(token="unused")
    port = (await aiohttp_server(fake.app())).port
    resolver = MapResolver({h: ("127.0.0.1", port) for h in ("www.googleapis.com", "oauth2.googleapis.com")})
    config = make_config(platforms=[YOUTUBE], limits={"video": True})
    federation = await open_federation(config, b"k" * 32, resolver=resolver, public_overrides=("127.0.0.0/8",))
    await federation.http.close()
    federation.http = guarded(resolver, total_timeout=QUICK_TIMEOUT * 4)
    clock = Clock(utcnow())
    handlers = {**all_handlers(), **platform_jobs.handlers(clock), **backfeed.handlers(clock)}
    worker = Worker(WorkerContext(config, sessions_only, federation), handlers=handlers)
    async with sessions_only.begin() as s:
        user = await add_user(s, "anna", Role.ADMIN, ["stadt"], test_password_hash)
    bridge = Bridge(config, sessions_only, worker, clock, None, None, None, user.id)
    bridge.fakes = {"yt": fake}
    yield bridge
    await federation.close()


async def video_post(bridge, tmp_path, text: str) -> int:
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        uploaded = await upload_video(s, bridge.config, user, "stadt", mp4_clip(tmp_path),
                                      "Die Bürgermeisterin spricht", captions=CAPTIONS)
        assert uploaded.ok, uploaded.description
    await bridge.run()  # the `video.process` job converts it before it can be published
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        draft = posts.Draft("stadt", text, language="de", media_ids=(uploaded.media.id,), mirrors=("yt",))
        result = await posts.create_post(s, bridge.config, user, draft)
        assert result.ok, result.reason
        return result.post.id


async def test_a_video_post_reaches_youtube_once_with_captions_and_edits_deletes_and_comments_follow(bridge,
                                                                                                   tmp_path):
    fake = bridge.fakes["yt"]
    post_id = await video_post(bridge, tmp_path, "Neujahrsgruß der Bürgermeisterin\nAlles Gute für 2027!")
    await bridge.run()
    row = await bridge.send(post_id, "yt")
    assert row.state == SendState.SENT and row.remote_id in fake.videos, (row.reason, row.detail)
    video = fake.videos[row.remote_id]
    assert video["snippet"]["title"] == "Neujahrsgruß der Bürgermeisterin" and video["bytes"] > 1000
    assert f"/{post_id}" in video["snippet"]["description"]
    [caption] = fake.captions
    assert caption["snippet"]["videoId"] == row.remote_id and caption["track"].startswith("WEBVTT")
    assert fake.calls.count("token refresh_token") == 1  # no access token configured: one refresh, then kept
    await bridge.run()
    assert len(fake.videos) == 1

    fake.threads[row.remote_id] = [youtube_thread("c1", row.remote_id, "Danke, gleichfalls!"),
                                   youtube_thread("c2", row.remote_id, "#nobridge bitte nicht")]
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    async with bridge.sessions() as s:
        stored = (await s.scalars(select(Reply))).all()
    assert [(r.post_id, r.signals["platform"]) for r in stored] == [(post_id, "yt")]

    await bridge.edit(post_id, "Neujahrsgruß 2027\nDie Bürgermeisterin wünscht alles Gute.")
    await bridge.run()
    assert fake.videos[row.remote_id]["snippet"]["title"] == "Neujahrsgruß 2027"
    await bridge.delete(post_id)
    await bridge.run()
    assert (await bridge.send(post_id, "yt")).state == SendState.DELETED and not fake.videos


async def test_a_text_only_post_is_not_sent_to_youtube_and_says_why(bridge):
    post_id = await bridge.post("Nur Text, kein Video", mirrors=("yt",))
    await bridge.run()
    row = await bridge.send(post_id, "yt")
    assert row.state == SendState.FAILED and row.reason == "video_required"
    assert not bridge.fakes["yt"].calls
