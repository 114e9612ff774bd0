"""A post with a captioned video reaches a follower's server as a Video attachment Mastodon plays, with the
captions linked as PeerTube links them (once its job has converted it); the follower's server fetches the video, poster and captions, and
the feeds carry the video as an enclosure."""

from __future__ import annotations

from xml.etree import ElementTree

import aiohttp
import pytest
from sqlalchemy import select

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.auth.users import find_user
from bridge.publishing import posts
from bridge.publishing.posts import Draft
from bridge.publishing.uploads import upload_video
from bridge.platforms.connectors.render import post_view, stored_files
from bridge.store.models import Post, Role
from fakes.fediverse import mastodon_follow
from support.inbox import CITY, instances, network, run_jobs, stadt  # noqa: F401
from support.videos import CAPTIONS, webm_clip
from testkit import add_user


@pytest.fixture
def config(make_config):
    return make_config(limits={"video": True})


async def publish_video(stadt, tmp_path) -> int:
    config = stadt.app[CONFIG]
    async with stadt.app[SESSIONS].begin() as s:
        user = await find_user(s, "erika")
        uploaded = await upload_video(s, config, user, "stadt", webm_clip(tmp_path), "Die Bürgermeisterin spricht",
                                      captions=CAPTIONS)
        assert uploaded.ok, uploaded.description
    assert await run_jobs(stadt) >= 1  # the `video.process` job converts it
    async with stadt.app[SESSIONS].begin() as s:
        user = await find_user(s, "erika")
        result = await posts.create_post(s, config, user, Draft("stadt", "Neujahrsgruß", language="de",
                                                                media_ids=(uploaded.media.id,)))
        assert result.ok, result.reason
        return result.post.id


async def test_a_follower_receives_a_playable_video_with_linked_captions(stadt, instances, network, tmp_path,
                                                                         test_password_hash):
    async with stadt.app[SESSIONS].begin() as s:
        await add_user(s, "erika", Role.EDITOR, ["stadt"], test_password_hash)
    mastodon = await instances("mastodon.test")
    alice = mastodon.add_actor("alice")
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice))[0] == 202
    await run_jobs(stadt)
    mastodon.received.clear()
    await publish_video(stadt, tmp_path)
    await run_jobs(stadt)
    [create] = [r for r in mastodon.received if r.json["type"] == "Create"]
    assert create.verified
    [video] = create.json["object"]["attachment"]
    assert video["type"] == "Video" and video["mediaType"] == "video/mp4"
    assert video["name"] == "Die Bürgermeisterin spricht"
    assert (video["width"], video["height"]) == (320, 240) and video["duration"] == "PT2S"
    assert video["icon"]["mediaType"] == "image/jpeg"
    [captions] = video["subtitleLanguage"]
    assert captions["identifier"] == "de" and captions["url"].endswith(".vtt")
    # The follower's server fetches what it was sent, as Mastodon does before showing the post.
    connector = aiohttp.TCPConnector(resolver=network)
    async with aiohttp.ClientSession(connector=connector) as http:
        for url, kind in ((video["url"], "video/mp4"), (video["icon"]["url"], "image/jpeg"),
                          (captions["url"], "text/vtt")):
            async with http.get(url) as response:
                assert response.status == 200 and response.headers["Content-Type"].startswith(kind)
                body = await response.read()
        assert body == CAPTIONS
    rss = ElementTree.fromstring(await (await stadt.get("/@stadt.rss")).read())
    enclosure = rss.find("./channel/item/enclosure")
    assert enclosure is not None and enclosure.get("type") == "video/mp4" and int(enclosure.get("length")) > 1000


async def test_platforms_get_the_poster_frame_and_a_link_to_the_video(stadt, tmp_path, test_password_hash):
    async with stadt.app[SESSIONS].begin() as s:
        await add_user(s, "erika", Role.EDITOR, ["stadt"], test_password_hash)
    post_id = await publish_video(stadt, tmp_path)
    config = stadt.app[CONFIG]
    async with stadt.app[SESSIONS]() as session:
        post = await session.get(Post, post_id)
        view = post_view(post, config, Uris.for_base(config.instance.base_url))
        files = stored_files(post)
    [still] = view.images
    assert still.mime_type == "image/jpeg" and still.path.endswith("-poster.jpg")
    assert still.alt == "Die Bürgermeisterin spricht" and open(still.path, "rb").read(2) == b"\xff\xd8"
    assert view.text.endswith(f"▶️ {view.permalink}") and files == [f"media/{still.path.rsplit('/', 1)[1]}"]
