"""A post's video on Mastodon, Telegram and Bluesky through each platform's own video upload, against the fakes
(a real MP4 made by ffmpeg): what each platform receives, the wait while it processes the video, the poster
frame and the link when the video is over a platform's limits, and failures classified by the contract."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.platforms.connectors.base import Outcome, Reason
from bridge.platforms.connectors.bluesky import BlueskyConnector
from bridge.platforms.connectors.bluesky_video import CAPTIONS_TOO_LARGE
from bridge.platforms.connectors.mastodon import MastodonConnector
from bridge.platforms.connectors.telegram import NO_VIDEO_TEXT, TelegramConnector
from bridge.platforms.connectors.videos import CAPTIONS_STAY, NO_IMAGES_WITH_VIDEO, TOO_LARGE, TOO_LONG, UPLOADED
from bridge.publishing import posts
from bridge.publishing.uploads import upload_video
from bridge.store.platforms import SendState
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, image_view, platform, state, video_view, view
from fakes.platform_servers import FakeBluesky, FakeMastodon, FakeTelegram
from support.mirroring import start_bridge
from support.videos import CAPTIONS, webm_clip

QUICK = (0.0,) * 6  # the processing waits, without the seconds


@pytest.fixture
async def fakes(aiohttp_server, unused_tcp_port):
    bsky, masto, tg = FakeBluesky(), FakeMastodon(), FakeTelegram()
    servers = {"bsky.social": await aiohttp_server(bsky.app()), "mastodon.example": await aiohttp_server(masto.app()),
               "api.telegram.org": await aiohttp_server(tg.app())}
    resolver = MapResolver({host: ("127.0.0.1", s.port) for host, s in servers.items()})
    resolver.mapping["public.api.bsky.app"] = resolver.mapping["video.bsky.app"] = resolver.mapping["bsky.social"]
    resolver.mapping["video.down.example"] = ("127.0.0.1", unused_tcp_port)  # nothing listens there
    http = guarded(resolver, total_timeout=3.0)
    yield {"bluesky": bsky, "mastodon": masto, "telegram": tg, "http": http, "resolver": resolver}
    await http.close()


@pytest.fixture
def video(tmp_path):
    return video_view(tmp_path)


def mastodon(fakes, token="mastodon-token", http=None) -> MastodonConnector:
    connector = MastodonConnector(platform("mastodon", "http://mastodon.example", access_token=token),
                                  http or fakes["http"], state(), Clock())
    connector.video_polls = QUICK
    return connector


def telegram(fakes, http=None) -> TelegramConnector:
    return TelegramConnector(platform("telegram", "http://api.telegram.org", bot_token="123:ABC", chat_id="@stadt"),
                             http or fakes["http"], state(), Clock())


def bluesky(fakes, video_service="http://video.bsky.app") -> BlueskyConnector:
    connector = BlueskyConnector(platform("bluesky", "http://bsky.social", handle="stadt.bsky.social",
                                          app_password="app-pass", appview="http://public.api.bsky.app",
                                          video_service=video_service), fakes["http"], state(), Clock())
    connector.video_polls = QUICK
    return connector


# Mastodon

async def test_mastodon_uploads_the_video_waits_until_it_is_processed_and_posts_it(fakes, video):
    connector, fake = mastodon(fakes), fakes["mastodon"]
    assert (await connector.check_credentials()).outcome is Outcome.SENT
    assert connector.capabilities().video_max_bytes == fake.video_size_limit
    rendered = connector.render(view("Neujahrsgruß der Bürgermeisterin", videos=[video]))
    assert rendered.images == () and rendered.extra["video"] == video
    assert CAPTIONS_STAY in rendered.notes and UPLOADED in rendered.notes
    result = await connector.publish(rendered, "1-abc")
    assert result.outcome is Outcome.SENT, result.description
    [media] = fake.media.values()
    assert media["type"] == "video" and media["description"] == "Die Bürgermeisterin spricht"
    assert media["mime_type"] == "video/mp4" and media["mp4"] and media["size"] == video.size
    assert media["thumbnail"] == "image/jpeg"  # the poster frame is the video's thumbnail
    assert fake.calls == ["GET verify", "POST media video", "GET media", "GET media", "GET media", "POST statuses"]
    [status] = fake.statuses.values()
    assert [m["id"] for m in status["media_attachments"]] == [media["id"]]


async def test_mastodon_video_still_processing_posts_nothing_and_is_retried_later(fakes, video):
    connector, fake = mastodon(fakes), fakes["mastodon"]
    fake.processing_polls = 100
    connector.video_polls = (0.0, 0.0)
    rendered = connector.render(view("Lang", videos=[video]))
    result = await connector.publish(rendered, "1-abc")
    assert result.outcome is Outcome.UNAVAILABLE and result.reason is Reason.VIDEO_PROCESSING
    assert result.retry_at is not None and result.retry_at > connector.clock()
    assert not fake.statuses and "POST statuses" not in fake.calls


async def test_mastodon_video_status_timing_out_is_reconciled_by_its_key_without_a_second_status(fakes, video):
    http = guarded(fakes["resolver"], total_timeout=QUICK_TIMEOUT)  # shorter than the fake's silence
    connector, fake = mastodon(fakes, http=http), fakes["mastodon"]
    fake.mode = "timeout_after_write"
    rendered = connector.render(view("Neujahrsgruß", videos=[video]))
    first = await connector.publish(rendered, "1-abc")
    assert first.outcome is Outcome.UNKNOWN
    again = await connector.reconcile("1-abc", rendered, connector.clock())
    await http.close()
    assert again.outcome is Outcome.SENT and len(fake.statuses) == 1
    assert again.remote.id == next(iter(fake.statuses))


async def test_mastodon_video_over_the_server_limit_goes_as_poster_and_link(fakes, video):
    connector, fake = mastodon(fakes), fakes["mastodon"]
    fake.video_size_limit = video.size - 1
    await connector.check_credentials()
    post = view("Groß ▶️ https://stadt.example/@stadt/1", videos=[video])
    rendered = connector.render(post)
    assert "video" not in rendered.extra and TOO_LARGE in rendered.notes and UPLOADED not in rendered.notes
    assert [i.poster for i in rendered.images] == [True]
    assert (await connector.publish(rendered, "1-abc")).outcome is Outcome.SENT
    assert [m["type"] for m in fake.media.values()] == ["image"]
    assert "https://stadt.example/@stadt/1" in next(iter(fake.statuses.values()))["content"]


async def test_mastodon_without_mp4_support_gets_the_poster_and_with_images_only_the_video(fakes, video, tmp_path):
    connector = mastodon(fakes)
    connector.account.limits = {"mp4_video": False}
    assert "video" not in connector.render(view("x", videos=[video])).extra
    connector.account.limits = {}
    rendered = connector.render(view("x", images=[image_view(tmp_path)], videos=[video]))
    assert rendered.images == () and rendered.extra["video"] == video and NO_IMAGES_WITH_VIDEO in rendered.notes


async def test_mastodon_video_upload_failures_are_classified(fakes, video):
    refused = await mastodon(fakes, token="wrong").publish(mastodon(fakes).render(view("x", videos=[video])), "1-a")
    assert refused.outcome is Outcome.AUTH_FAILED
    gone = await mastodon(fakes).publish(mastodon(fakes).render(view("x", videos=[replace(video, path="/nope.mp4")])),
                                         "1-b")
    assert gone.outcome is Outcome.REJECTED and gone.reason is Reason.VIDEO_UNUSABLE
    assert not fakes["mastodon"].statuses and not fakes["mastodon"].media


# Telegram

async def test_telegram_sends_the_video_streamable_with_its_shape_and_the_poster_as_thumbnail(fakes, video):
    connector, fake = telegram(fakes), fakes["telegram"]
    rendered = connector.render(view("Neujahrsgruß <live> & mehr", videos=[video]))
    assert rendered.limit == 1024 and rendered.images == () and NO_VIDEO_TEXT in rendered.notes
    result = await connector.publish(rendered, "1-abc")
    assert result.outcome is Outcome.SENT and result.remote.extra["caption"] is True
    [sent] = fake.uploads
    assert sent["caption"] == "Neujahrsgruß &lt;live&gt; &amp; mehr" and sent["parse_mode"] == "HTML"
    assert (sent["supports_streaming"], sent["width"], sent["height"], sent["duration"]) == ("true", "320", "240", "2")
    assert sent["video"] == ("video/mp4", video.size)
    assert sent["thumbnail"] == "attach://poster" and sent["poster"][0] == "image/jpeg"
    assert fake.calls == ["sendVideo"] and [m["kind"] for m in fake.messages.values()] == ["video"]


async def test_telegram_video_with_images_is_one_media_group_led_by_the_video(fakes, video, tmp_path):
    connector, fake = telegram(fakes), fakes["telegram"]
    rendered = connector.render(view("Rathausfest", images=[image_view(tmp_path)], videos=[video]))
    assert [i.poster for i in rendered.images] == [False]
    result = await connector.publish(rendered, "1-abc")
    assert result.outcome is Outcome.SENT and len(result.remote.extra["message_ids"]) == 2
    [sent] = fake.uploads
    first, second = sent["media"]
    assert first["type"] == "video" and first["caption"] == "Rathausfest" and first["supports_streaming"] is True
    assert first["thumbnail"] == "attach://poster" and sent["poster"][0] == "image/jpeg"
    assert second == {"type": "photo", "media": "attach://p0"}
    assert [m["kind"] for m in fake.messages.values()] == ["video", "photo"]


async def test_telegram_video_over_the_bot_limit_goes_as_poster_and_link(fakes, video):
    connector, fake = telegram(fakes), fakes["telegram"]
    rendered = connector.render(view("Groß", videos=[replace(video, size=60_000_000)]))
    assert "video" not in rendered.extra and TOO_LARGE in rendered.notes and rendered.images[0].poster
    assert (await connector.publish(rendered, "1-abc")).outcome is Outcome.SENT
    assert fake.calls == ["sendPhoto"] and not fake.uploads


async def test_telegram_video_timeout_after_the_write_is_unknown(fakes, video):
    http = guarded(fakes["resolver"], total_timeout=QUICK_TIMEOUT)  # shorter than the fake's silence
    connector, fake = telegram(fakes, http), fakes["telegram"]
    fake.mode = "timeout_after_write"
    result = await connector.publish(connector.render(view("x", videos=[video])), "1-abc")
    await http.close()
    assert result.outcome is Outcome.UNKNOWN and len(fake.messages) == 1


# Bluesky

async def test_bluesky_video_goes_through_the_video_service_with_alt_captions_and_aspect_ratio(fakes, video):
    connector, fake = bluesky(fakes), fakes["bluesky"]
    rendered = connector.render(view("Neujahrsgruß", videos=[video]))
    assert rendered.images == () and rendered.link is None and rendered.extra["video"] == video
    result = await connector.publish(rendered, "1795305355-abc")
    assert result.outcome is Outcome.SENT, result.description
    [record] = fake.records.values()
    embed = record["embed"]
    assert embed["$type"] == "app.bsky.embed.video" and embed["alt"] == "Die Bürgermeisterin spricht"
    assert embed["video"] == {"$type": "blob", "ref": {"$link": f"bafkvideo{video.size}"}, "mimeType": "video/mp4",
                              "size": video.size}
    assert embed["aspectRatio"] == {"width": 320, "height": 240}
    [caption] = embed["captions"]
    assert caption["lang"] == "de" and caption["file"]["mimeType"] == "text/vtt"
    assert fake.blobs == [("text/vtt", caption["file"]["size"])]
    limits, upload = fake.service_tokens.values()
    assert (limits["aud"], limits["lxm"]) == ("did:web:video.bsky.app", "app.bsky.video.getUploadLimits")
    assert (upload["aud"], upload["lxm"]) == ("did:web:morel.us-east.host.bsky.network", "com.atproto.repo.uploadBlob")
    assert int(upload["exp"]) > connector.clock().timestamp()
    [sent] = fake.videos
    assert sent.pop("sha256") and sent == {"did": "did:plc:stadt", "name": "video.mp4", "content_type": "video/mp4",
                                           "size": video.size, "mp4": True, "content_length": video.size,
                                           "chunked": False}
    assert fake.calls.count("getJobStatus") == 3


async def test_bluesky_video_without_speech_has_no_captions_and_too_large_captions_are_noted(fakes, tmp_path):
    connector = bluesky(fakes)
    silent = replace(video_view(tmp_path), no_speech=True)
    assert (await connector.publish(connector.render(view("Still", videos=[silent])), "1795305355-a")).outcome \
        is Outcome.SENT
    assert "captions" not in next(iter(fakes["bluesky"].records.values()))["embed"]
    wordy = video_view(tmp_path, captions=b"WEBVTT\n\n" + b"00:00:00.000 --> 00:00:01.000\nWort\n\n" * 800)
    rendered = connector.render(view("Viel", videos=[wordy]))
    assert CAPTIONS_TOO_LARGE in rendered.notes
    assert (await connector.publish(rendered, "1795305355-b")).outcome is Outcome.SENT
    assert all("captions" not in r["embed"] for r in fakes["bluesky"].records.values())


async def test_bluesky_video_over_three_minutes_goes_as_poster_and_link(fakes, video):
    connector, fake = bluesky(fakes), fakes["bluesky"]
    rendered = connector.render(view("Lang", videos=[replace(video, duration_ms=181_000)]))
    assert "video" not in rendered.extra and TOO_LONG in rendered.notes
    assert (await connector.publish(rendered, "1795305355-abc")).outcome is Outcome.SENT
    assert next(iter(fake.records.values()))["embed"]["$type"] == "app.bsky.embed.images" and not fake.videos


async def test_bluesky_video_failures_post_nothing(fakes, video):
    fake = fakes["bluesky"]
    fake.video_fails = True
    failed = await bluesky(fakes).publish(bluesky(fakes).render(view("x", videos=[video])), "1795305355-a")
    assert failed.outcome is Outcome.REJECTED and failed.reason is Reason.VIDEO_UNUSABLE and "too long" in failed.detail
    fake.video_fails, fake.can_upload = False, False
    refused = await bluesky(fakes).publish(bluesky(fakes).render(view("x", videos=[video])), "1795305355-b")
    assert refused.outcome is Outcome.REJECTED and "daily upload limit" in refused.detail
    fake.can_upload, fake.processing_polls = True, 100
    busy = await bluesky(fakes).publish(bluesky(fakes).render(view("x", videos=[video])), "1795305355-c")
    assert busy.outcome is Outcome.UNAVAILABLE and busy.reason is Reason.VIDEO_PROCESSING
    down = bluesky(fakes, video_service="http://video.down.example")
    unreachable = await down.publish(down.render(view("x", videos=[video])), "1795305355-d")
    assert unreachable.outcome is Outcome.UNAVAILABLE and unreachable.reason is Reason.CONNECTION_FAILED
    assert not fake.records and fake.videos and len(fake.videos) == 2  # the refused one never uploaded


# The send machinery

@pytest.fixture
async def video_bridge(make_config, sessions_only, aiohttp_server, test_password_hash, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "video_polls", QUICK)
    monkeypatch.setattr(BlueskyConnector, "video_polls", QUICK)
    bridge, closing = await start_bridge(lambda **kw: make_config(limits={"video": True}, **kw), sessions_only,
                                         aiohttp_server, test_password_hash)
    yield bridge
    for federation in closing:
        await federation.close()


async def test_a_published_video_post_reaches_mastodon_as_a_video_once(video_bridge, tmp_path):
    bridge = video_bridge
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        uploaded = await upload_video(s, bridge.config, user, "stadt", webm_clip(tmp_path),
                                      "Die Bürgermeisterin spricht", captions=CAPTIONS)
        assert uploaded.ok, uploaded.description
    await bridge.run()  # the `video.process` job converts it before it can be published
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        draft = posts.Draft("stadt", "Neujahrsgruß", media_ids=(uploaded.media.id,), mirrors=("masto",))
        result = await posts.create_post(s, bridge.config, user, draft)
        assert result.ok, result.reason
    await bridge.run()
    row = await bridge.send(result.post.id, "masto")
    assert row.state == SendState.SENT and row.remote_id, (row.reason, row.detail)
    [media] = bridge.mastodon.media.values()
    assert media["type"] == "video" and media["mp4"] and media["description"] == "Die Bürgermeisterin spricht"
    assert media["thumbnail"] == "image/jpeg"
    [status] = bridge.mastodon.statuses.values()
    assert [m["id"] for m in status["media_attachments"]] == [media["id"]]
    assert "▶️ " in status["content"]  # the page with the captions stays linked
    await bridge.run()
    assert len(bridge.mastodon.statuses) == 1
