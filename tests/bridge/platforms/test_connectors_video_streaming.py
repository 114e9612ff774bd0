"""Videos go to the platforms streamed from their files, as a peer sees it: each fake receives a declared
Content-Length (no chunked transfer) and exactly the file's bytes, while the connector's own memory stays far
below the file's size (measured with tracemalloc while it publishes a 20 MB file; the fakes read in parts too)."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from dataclasses import replace

import pytest

from bridge.platforms.connectors.base import Outcome
from bridge.platforms.connectors.bluesky import BlueskyConnector
from bridge.platforms.connectors.mastodon import MastodonConnector
from bridge.platforms.connectors.telegram import TelegramConnector
from bridge.platforms.connectors.youtube import YouTubeConnector
from fakes.platforms import Clock, MapResolver, guarded, platform, state, video_view, view
from fakes.platform_servers import FakeBluesky, FakeMastodon, FakeTelegram
from fakes.youtube import FakeYouTube

BIG = 20 * 1024 * 1024
MEMORY = 4 * 1024 * 1024  # the most a publish may hold at its peak: a fifth of the file
QUICK = (0.0,) * 6


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> tuple[str, str]:
    """A 20 MB file of random bytes (no compression anywhere can shrink it) and its SHA-256."""
    path = tmp_path_factory.mktemp("big") / "video.mp4"
    data = os.urandom(BIG)
    path.write_bytes(data)
    return str(path), hashlib.sha256(data).hexdigest()


@pytest.fixture
async def fakes(aiohttp_server):
    made = {"bluesky": FakeBluesky(), "mastodon": FakeMastodon(), "telegram": FakeTelegram(),
            "youtube": FakeYouTube()}
    servers = {name: await aiohttp_server(fake.app()) for name, fake in made.items()}
    hosts = {"bsky.social": "bluesky", "video.bsky.app": "bluesky", "public.api.bsky.app": "bluesky",
             "mastodon.example": "mastodon", "api.telegram.org": "telegram", "www.googleapis.com": "youtube",
             "oauth2.googleapis.com": "youtube"}
    http = guarded(MapResolver({host: ("127.0.0.1", servers[name].port) for host, name in hosts.items()}),
                   total_timeout=3.0)
    yield {**made, "http": http}
    await http.close()


@pytest.fixture
def video(tmp_path, big_file):
    path, _ = big_file
    return replace(video_view(tmp_path), path=path, size=os.path.getsize(path))


async def publish_measured(connector, rendered) -> tuple:
    """The result of publishing and the peak of memory allocated meanwhile (server side included)."""
    tracemalloc.start()
    try:
        result = await connector.publish(rendered, "1-abc")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


async def test_mastodon_gets_the_video_as_a_streamed_form_with_its_length(fakes, video, big_file):
    fake = fakes["mastodon"]
    connector = MastodonConnector(platform("mastodon", "http://mastodon.example", access_token="mastodon-token"),
                                  fakes["http"], state(), Clock())
    connector.video_polls = QUICK
    await connector.check_credentials()
    result, peak = await publish_measured(connector, connector.render(view("Groß", videos=[video])))
    assert result.outcome is Outcome.SENT, result.description
    [media] = fake.media.values()
    assert media["size"] == BIG and media["sha256"] == big_file[1] and media["description"] == video.description
    assert not media["chunked"] and media["content_length"] > BIG  # the form: the file, the fields, boundaries
    assert media["thumbnail"] == "image/jpeg"
    assert peak < MEMORY, f"{peak} bytes allocated at the peak for a {BIG} byte file"


async def test_telegram_gets_the_video_as_a_streamed_form_with_its_length(fakes, video, big_file):
    fake = fakes["telegram"]
    connector = TelegramConnector(platform("telegram", "http://api.telegram.org", bot_token="123:ABC",
                                           chat_id="@stadt"), fakes["http"], state(), Clock())
    result, peak = await publish_measured(connector, connector.render(view("Groß", videos=[video])))
    assert result.outcome is Outcome.SENT, result.description
    [sent] = fake.videos
    assert sent["sha256"] == big_file[1] and not sent["chunked"] and sent["content_length"] > BIG
    [upload] = fake.uploads
    assert upload["video"] == ("video/mp4", BIG) and upload["thumbnail"] == "attach://poster"
    assert upload["supports_streaming"] == "true" and upload["caption"]  # the text fields parse as before
    assert peak < MEMORY, f"{peak} bytes allocated at the peak for a {BIG} byte file"


async def test_bluesky_gets_the_raw_video_streamed_with_its_exact_length(fakes, video, big_file):
    fake = fakes["bluesky"]
    connector = BlueskyConnector(platform("bluesky", "http://bsky.social", handle="stadt.bsky.social",
                                          app_password="app-pass", appview="http://public.api.bsky.app",
                                          video_service="http://video.bsky.app"), fakes["http"], state(), Clock())
    connector.video_polls = QUICK
    result, peak = await publish_measured(connector, connector.render(view("Groß", videos=[video])))
    assert result.outcome is Outcome.SENT, result.description
    [sent] = fake.videos
    assert sent["size"] == BIG and sent["sha256"] == big_file[1] and sent["content_type"] == "video/mp4"
    assert sent["content_length"] == BIG and not sent["chunked"]
    assert peak < MEMORY, f"{peak} bytes allocated at the peak for a {BIG} byte file"


def youtube(fakes) -> YouTubeConnector:
    return YouTubeConnector(platform("youtube", "http://www.googleapis.com", client_id="yt-client",
                                     client_secret="yt-secret", access_token="yt-token", refresh_token="yt-refresh",
                                     oauth_base="http://oauth2.googleapis.com"), fakes["http"], state(), Clock())


async def test_youtube_gets_the_video_in_one_put_with_its_length(fakes, video, big_file):
    """The YouTube fake keeps the bytes it received (to resume from them), so its memory is not measured here."""
    fake = fakes["youtube"]
    result = await youtube(fakes).publish(youtube(fakes).render(view("Groß", videos=[video])), "h")
    assert result.outcome is Outcome.SENT, result.description
    assert fake.puts == [{"range": "", "length": BIG, "chunked": False}]
    assert fake.videos[result.remote.id]["sha256"] == big_file[1]


async def test_youtube_sends_the_whole_file_again_after_a_refused_token(fakes, tmp_path):
    """A 401 on the PUT is answered by a refresh and a repeat: the repeat opens the file afresh (a sent stream
    is spent), so the second PUT carries every byte."""
    fake, clip = fakes["youtube"], video_view(tmp_path)
    fake.mode = "token_expires_after_open"
    connector = youtube(fakes)
    result = await connector.publish(connector.render(view("Neu", videos=[clip])), "h")
    assert result.outcome is Outcome.SENT, result.description
    assert fake.calls[:4] == ["open upload", "upload refused", "token refresh_token", "upload complete"]
    assert [p["length"] for p in fake.puts] == [clip.size]
    with open(clip.path, "rb") as f:
        assert fake.videos[result.remote.id]["sha256"] == hashlib.sha256(f.read()).hexdigest()
