"""A post's video on X, Facebook, Instagram, Threads and LinkedIn, against the fakes of their documented
upload APIs: what each receives (chunks in order, ETags, container parameters), waiting while the platform
processes the video, a processing error refused with the platform's words, and a video beyond the platform's
limits going as its poster frame with a note — and, through the send machinery, a published video post."""

from __future__ import annotations

import dataclasses
import math

import pytest
from babel.messages.pofile import read_po
from PIL import Image

from bridge.platforms.connectors.base import ImageView, Outcome, Reason, VideoView
from bridge.platforms.connectors.facebook import FacebookConnector
from bridge.platforms.connectors.instagram import InstagramConnector
from bridge.platforms.connectors.linkedin import LinkedInConnector
from bridge.platforms.connectors.threads import ThreadsConnector
from bridge.platforms.connectors.videos import (
    CAPTIONS_STAY, NO_IMAGES_WITH_VIDEO, TOO_LARGE, TOO_LONG, TOO_SHORT, UPLOADED, vtt_to_srt,
)
from bridge.platforms.connectors.x import XConnector
from bridge.publishing import posts
from bridge.web.i18n import LOCALE_DIR
from bridge.publishing.uploads import upload_video
from bridge.store.platforms import SendState
from fakes.linkedin import FakeLinkedIn
from fakes.meta import FakeFacebook, FakeInstagram, FakeThreads
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, platform, state, video_view, view
from fakes.x import FakeX
from support.mirroring import start_more
from support.videos import CAPTIONS, mp4_clip

QUICK = (0.01, 0.01, 0.01, 0.01, 0.01)
HOSTS = {FakeX: ("api.x.com",), FakeFacebook: ("graph.facebook.com",), FakeInstagram: ("graph.instagram.com",),
         FakeThreads: ("graph.threads.net",), FakeLinkedIn: ("api.linkedin.com", "www.linkedin.com")}


async def serve(aiohttp_server, fake):
    server = await aiohttp_server(fake.app())
    fake.http = guarded(MapResolver({h: ("127.0.0.1", server.port) for h in HOSTS[type(fake)]}),
                        total_timeout=QUICK_TIMEOUT)
    return fake


@pytest.fixture
async def fakes(aiohttp_server):
    made = []

    async def make(kind):
        made.append(await serve(aiohttp_server, kind()))
        return made[-1]

    yield make
    for fake in made:
        await fake.http.close()


def photo(tmp_path, name="platz.jpg", alt="Der neue Platz") -> ImageView:
    path = tmp_path / name
    Image.new("RGB", (1080, 1080), (30, 90, 160)).save(path, "JPEG")
    return ImageView(str(path), "image/jpeg", alt, 1080, 1080)


@pytest.fixture
def video(tmp_path) -> VideoView:
    return video_view(tmp_path, seconds=4)


def x(fake) -> XConnector:
    connector = XConnector(platform("x", "http://api.x.com", client_id="app", access_token="x-token",
                                    refresh_token="x-refresh"), fake.http, state(), Clock())
    connector.video_waits, connector.chunk_bytes = QUICK, 16_000
    return connector


def facebook(fake) -> FacebookConnector:
    return FacebookConnector(platform("facebook", "http://graph.facebook.com/v25.0", page_id="112233",
                                      access_token="page-token"), fake.http, state(), Clock())


def instagram(fake) -> InstagramConnector:
    connector = InstagramConnector(platform("instagram", "http://graph.instagram.com/v25.0",
                                            ig_user_id="17841400000000001", access_token="ig-token"),
                                   fake.http, state(), Clock())
    connector.status_waits, connector.video_waits = (), QUICK
    return connector


def threads(fake) -> ThreadsConnector:
    connector = ThreadsConnector(platform("threads", "http://graph.threads.net/v1.0", threads_user_id="me",
                                          access_token="threads-token"), fake.http, state(), Clock())
    connector.status_waits, connector.video_waits = (), QUICK
    return connector


def linkedin(fake) -> LinkedInConnector:
    connector = LinkedInConnector(platform("linkedin", "http://api.linkedin.com", organization_id="2414183",
                                           access_token="li-token", linkedin_version="202609",
                                           oauth_base="http://www.linkedin.com"), fake.http, state(), Clock())
    connector.video_waits = QUICK
    return connector


# X


async def test_x_uploads_the_video_in_chunks_in_order_and_posts_it_alone(fakes, video, tmp_path):
    fake = await fakes(FakeX)
    connector = x(fake)
    rendered = connector.render(view("Neujahrsgruß der Bürgermeisterin", images=[photo(tmp_path)], videos=[video]))
    assert rendered.images == () and rendered.extra["video"] == video
    assert NO_IMAGES_WITH_VIDEO in rendered.notes and UPLOADED in rendered.notes
    assert CAPTIONS_STAY not in rendered.notes  # X takes the captions as subtitles
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.SENT, result.description
    [media_id] = fake.tweets[result.remote.id]["media"]
    parts = math.ceil(video.size / 16_000)
    assert fake.uploads[:parts + 2] == [("INIT", media_id, "tweet_video"),
                                        *[("APPEND", media_id, i) for i in range(parts)],
                                        ("FINALIZE", media_id, video.size)]
    media = fake.media[media_id]
    assert media["type"] == "video/mp4" and media["alt"] == "Die Bürgermeisterin spricht"
    assert media["subtitles"] == {"language_code": "DE", "display_name": "Deutsch",
                                  "srt": "1\n00:00:00,000 --> 00:00:01,500\nGuten Tag aus dem Rathaus.\n"}
    [(_, subtitles, category)] = [u for u in fake.uploads if u[0] == "INIT" and u[1] != media_id]
    assert category == "subtitles" and fake.media[subtitles]["type"] == "text/srt"


async def test_x_waits_while_the_video_is_processed(fakes, video):
    fake = await fakes(FakeX)
    fake.processing_steps = 3
    connector = x(fake)
    result = await connector.publish(connector.render(view("Video", videos=[video])), "h")
    assert result.outcome is Outcome.SENT, result.description
    assert [u[2] for u in fake.uploads if u[0] == "STATUS"] == ["pending", "in_progress", "in_progress"]


async def test_x_refuses_a_video_it_cannot_process_with_its_message_and_posts_nothing(fakes, video):
    fake = await fakes(FakeX)
    fake.processing_steps, fake.processing_error = 1, "Unsupported video frame rate"
    connector = x(fake)
    result = await connector.publish(connector.render(view("Video", videos=[video])), "h")
    assert result.outcome is Outcome.REJECTED and result.reason is Reason.REJECTED
    assert "Unsupported video frame rate" in result.detail
    assert not fake.tweets


async def test_x_still_processing_after_the_waits_is_safe_to_try_later(fakes, video):
    fake = await fakes(FakeX)
    fake.processing_steps = 50
    connector = x(fake)
    result = await connector.publish(connector.render(view("Video", videos=[video])), "h")
    assert result.outcome is Outcome.UNAVAILABLE and result.retry_at is not None and not fake.tweets


async def test_x_posts_the_same_upload_once_processing_ends_without_uploading_again(fakes, video):
    fake = await fakes(FakeX)
    fake.processing_steps = 50
    connector = x(fake)
    rendered = connector.render(view("Video", videos=[video]))
    assert (await connector.publish(rendered, "h")).outcome is Outcome.UNAVAILABLE
    [media_id] = [u[1] for u in fake.uploads if u[0] == "INIT"]
    fake.media[media_id]["steps"] = 1  # X finishes in the meantime
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.SENT, result.description
    assert fake.tweets[result.remote.id]["media"] == [media_id]
    assert [u[0] for u in fake.uploads].count("INIT") == 2  # the video once, its subtitles once
    assert not connector.account.limits.get("containers")


async def test_x_gets_the_poster_and_link_for_a_video_beyond_its_limits(fakes, video):
    fake = await fakes(FakeX)
    connector = x(fake)
    long = dataclasses.replace(video, duration_ms=141_000)
    rendered = connector.render(view("Langes Video", videos=[long]))
    assert "video" not in rendered.extra and [i.poster for i in rendered.images] == [True]
    assert TOO_LONG in rendered.notes and UPLOADED not in rendered.notes
    result = await connector.publish(rendered, "h")
    [media_id] = fake.tweets[result.remote.id]["media"]
    assert fake.media[media_id]["category"] == "tweet_image" and not fake.uploads


# Facebook


async def test_facebook_publishes_a_page_video_from_the_public_url_and_edits_its_description(fakes, video):
    fake = await fakes(FakeFacebook)
    connector = facebook(fake)
    rendered = connector.render(view("Neujahrsgruß", videos=[video]))
    assert CAPTIONS_STAY not in rendered.notes  # Facebook takes the captions as a SubRip track
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.SENT, result.description
    sent = fake.videos[result.remote.id]
    captions = sent.pop("captions")
    assert sent == {"file_url": "https://stadt.example/media/video.mp4", "description": "Neujahrsgruß"}
    assert captions == {"locale": "de_DE", "default": "de_DE", "srt": vtt_to_srt(CAPTIONS.decode())}
    assert result.remote.extra == {"video": True, "captions": "de_DE"}
    assert result.remote.url.endswith(f"/videos/{result.remote.id}") and not fake.photos
    edited = await connector.edit(result.remote, connector.render(view("Neujahrsgruß (mit Untertiteln)",
                                                                       videos=[video])))
    assert edited.outcome is Outcome.SENT
    assert fake.posts[result.remote.id]["message"] == "Neujahrsgruß (mit Untertiteln)"


async def test_facebook_video_write_that_times_out_is_unknown_and_found_again(fakes, video):
    fake = await fakes(FakeFacebook)
    fake.mode = "timeout_after_write"
    connector = facebook(fake)
    rendered = connector.render(view("Neujahrsgruß aus dem Rathaus", videos=[video]))
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.UNKNOWN
    found = await connector.reconcile("h", rendered, None)
    assert found.outcome is Outcome.SENT and found.remote.id in fake.videos
    # the captions follow the video found again, once; and its edits change the description, as a video's must
    assert fake.videos[found.remote.id]["captions"]["locale"] == "de_DE" and found.remote.extra["video"] is True
    again = await connector.reconcile("h", rendered, None)
    assert again.remote.extra["captions"] == "de_DE" and fake.calls.count(f"POST {found.remote.id}/captions") == 1
    edited = await connector.edit(found.remote, connector.render(view("Neujahrsgruß, neu", videos=[video])))
    assert edited.outcome is Outcome.SENT and fake.posts[found.remote.id]["message"] == "Neujahrsgruß, neu"


async def test_facebook_refusing_the_captions_leaves_the_video_sent_and_tells_the_editor(fakes, tmp_path):
    fake = await fakes(FakeFacebook)
    connector = facebook(fake)
    clip = video_view(tmp_path, seconds=2)
    rendered = connector.render(view("Video on English", videos=[clip], language="en"))
    assert rendered.extra["locale"] == "en_US"
    fake.refuse_captions = True
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.SENT and result.remote.id in fake.videos
    assert "captions not added" in result.description and result.remote.extra["captions"] is None
    assert result.remote.extra["captions_failed"] == "rejected"  # the editor's page names it
    assert "captions" not in fake.videos[result.remote.id]


def test_facebook_locales_follow_the_post_language():
    from bridge.platforms.connectors.facebook import facebook_locale
    assert [facebook_locale(x) for x in ("de", "de-AT", "en", "tr", "uk", "")] == \
        ["de_DE", "de_AT", "en_US", "tr_TR", "uk_UA", "de_DE"]


# Instagram and Threads: a container per video, published once the platform has processed it

CONTAINERS = {"instagram": (FakeInstagram, instagram, {"media_type": "REELS", "caption": "Neujahrsgruß"}),
              "threads": (FakeThreads, threads, {"media_type": "VIDEO", "text": "Neujahrsgruß",
                                                 "alt_text": "Die Bürgermeisterin spricht"})}


@pytest.mark.parametrize("kind", CONTAINERS)
async def test_a_video_container_is_published_once_it_is_processed(fakes, video, kind):
    make, connect, expected = CONTAINERS[kind]
    fake = await fakes(make)
    fake.video_polls = 2
    connector = connect(fake)
    result = await connector.publish(connector.render(view("Neujahrsgruß", videos=[video])), "h")
    assert result.outcome is Outcome.SENT, result.description
    [container] = fake.containers.values()
    assert {k: container.get(k) for k in expected} == expected
    assert container["video_url"] == "https://stadt.example/media/video.mp4" and fake.video_checks == 3
    assert fake.media[result.remote.id]["container"] == container["id"]


@pytest.mark.parametrize("kind", CONTAINERS)
async def test_a_video_the_platform_cannot_process_is_refused_with_its_words(fakes, video, kind):
    make, connect, _ = CONTAINERS[kind]
    fake = await fakes(make)
    fake.video_polls, fake.video_error = 1, "2207026: unsupported video format"
    connector = connect(fake)
    result = await connector.publish(connector.render(view("Neujahrsgruß", videos=[video])), "h")
    assert result.outcome is Outcome.REJECTED and result.reason is Reason.REJECTED
    assert "2207026: unsupported video format" in result.detail
    assert not fake.media and not connector.account.limits.get("containers")


async def test_instagram_carousel_has_a_video_item_processed_before_the_carousel(fakes, video, tmp_path):
    fake = await fakes(FakeInstagram)
    fake.video_polls = 1
    connector = instagram(fake)
    rendered = connector.render(view("Bilder und Video", images=[photo(tmp_path)], videos=[video]))
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.SENT, result.description
    image, clip, carousel = fake.containers.values()
    assert image["image_url"].endswith("/media/platz.jpg") and image["alt_text"] == "Der neue Platz"
    assert clip["media_type"] == "VIDEO" and clip["is_carousel_item"] == "true"
    assert carousel["media_type"] == "CAROUSEL" and carousel["children"] == f"{image['id']},{clip['id']}"


async def test_instagram_gets_the_poster_for_a_video_shorter_than_reels_allow(fakes, tmp_path):
    fake = await fakes(FakeInstagram)
    connector = instagram(fake)
    rendered = connector.render(view("Kurz", videos=[video_view(tmp_path, seconds=2)]))
    assert TOO_SHORT in rendered.notes
    assert (await connector.publish(rendered, "h")).outcome is Outcome.SENT
    [container] = fake.containers.values()
    assert container["image_url"].endswith("/media/video-poster.jpg") and "video_url" not in container


async def test_threads_carousel_mixes_images_and_video(fakes, video, tmp_path):
    fake = await fakes(FakeThreads)
    connector = threads(fake)
    result = await connector.publish(connector.render(view("Beides", images=[photo(tmp_path)], videos=[video])), "h")
    assert result.outcome is Outcome.SENT, result.description
    assert [c["media_type"] for c in fake.containers.values()] == ["IMAGE", "VIDEO", "CAROUSEL"]


async def test_threads_gets_the_poster_for_a_video_longer_than_five_minutes(fakes, video):
    fake = await fakes(FakeThreads)
    connector = threads(fake)
    rendered = connector.render(view("Lang", videos=[dataclasses.replace(video, duration_ms=301_000)]))
    assert TOO_LONG in rendered.notes
    assert (await connector.publish(rendered, "h")).outcome is Outcome.SENT
    [container] = fake.containers.values()
    assert container["media_type"] == "IMAGE" and container["image_url"].endswith("video-poster.jpg")


# LinkedIn


async def test_linkedin_uploads_the_parts_finalizes_with_their_etags_and_names_the_video(fakes, video):
    fake = await fakes(FakeLinkedIn)
    fake.part_bytes = 20_000
    connector = linkedin(fake)
    rendered = connector.render(view("Neujahrsgruß", videos=[video]))
    assert rendered.images == () and CAPTIONS_STAY not in rendered.notes  # LinkedIn takes the captions
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.SENT, result.description
    media = fake.posts[result.remote.id]["content"]["media"]
    uploaded = fake.videos[media["id"]]
    assert media["title"] == "Die Bürgermeisterin spricht"
    assert len(uploaded["parts"]) == math.ceil(video.size / 20_000)
    assert uploaded["finalized_with"] == [uploaded["parts"][i][1] for i in range(len(uploaded["parts"]))]
    assert uploaded["captions"] == "1\n00:00:00,000 --> 00:00:01,500\nGuten Tag aus dem Rathaus.\n"


async def test_linkedin_waits_while_the_video_is_processed(fakes, video):
    fake = await fakes(FakeLinkedIn)
    fake.video_polls = 3
    connector = linkedin(fake)
    result = await connector.publish(connector.render(view("Video", videos=[video])), "h")
    assert result.outcome is Outcome.SENT, result.description


async def test_linkedin_posts_the_same_upload_once_processing_ends_without_uploading_again(fakes, video):
    fake = await fakes(FakeLinkedIn)
    fake.video_polls = 50
    connector = linkedin(fake)
    rendered = connector.render(view("Video", videos=[video]))
    assert (await connector.publish(rendered, "h")).outcome is Outcome.UNAVAILABLE and not fake.posts
    [urn] = fake.videos
    fake.videos[urn]["polls_left"] = 0  # LinkedIn finishes in the meantime
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.SENT, result.description
    assert list(fake.videos) == [urn] and fake.posts[result.remote.id]["content"]["media"]["id"] == urn
    assert not connector.account.limits.get("containers")


async def test_linkedin_refuses_with_its_reason_when_processing_fails(fakes, video):
    fake = await fakes(FakeLinkedIn)
    fake.video_polls, fake.video_error = 1, "VIDEO_TOO_SHORT"
    connector = linkedin(fake)
    result = await connector.publish(connector.render(view("Video", videos=[video])), "h")
    assert result.outcome is Outcome.REJECTED and "VIDEO_TOO_SHORT" in result.detail and not fake.posts


# Facebook and LinkedIn: beyond the limits, the poster frame goes as the post's image

POSTER_ONLY = {"facebook": (FakeFacebook, facebook, 1_200_000_000, lambda post: len(post["attached"]) == 1),
               "linkedin": (FakeLinkedIn, linkedin, 600_000_000,
                            lambda post: post["content"]["media"]["id"].startswith("urn:li:image:"))}


@pytest.mark.parametrize("kind", POSTER_ONLY)
async def test_a_video_beyond_the_limits_goes_as_its_poster_with_a_note(fakes, video, kind):
    make, connect, size, with_poster = POSTER_ONLY[kind]
    fake = await fakes(make)
    connector = connect(fake)
    rendered = connector.render(view("Großes Video", videos=[dataclasses.replace(video, size=size)]))
    assert TOO_LARGE in rendered.notes and [i.poster for i in rendered.images] == [True]
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.SENT and not fake.videos and with_poster(fake.posts[result.remote.id])


def test_the_video_notes_have_german_translations():
    with (LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalogue = {m.id: m.string for m in read_po(fh, locale="de") if m.id}
    assert all(catalogue.get(note) for note in (TOO_LARGE, TOO_LONG, TOO_SHORT, UPLOADED, NO_IMAGES_WITH_VIDEO,
                                                CAPTIONS_STAY))


def test_webvtt_captions_become_subrip():
    vtt = ("WEBVTT\n\nNOTE a remark\n\n1\n00:01.000 --> 00:02.500 align:start\nErste Zeile\nzweite\n\n"
           "01:00:03.000 --> 01:00:04.000\n<v Anna>Danke</v>\n")
    assert vtt_to_srt(vtt) == ("1\n00:00:01,000 --> 00:00:02,500\nErste Zeile\nzweite\n\n"
                               "2\n01:00:03,000 --> 01:00:04,000\nDanke\n")


# Through the send machinery


@pytest.fixture
async def bridge(make_config, sessions_only, aiohttp_server, test_password_hash):
    def with_video(**kwargs):
        return make_config(limits={"video": True}, **kwargs)

    bridge, closing = await start_more(with_video, sessions_only, aiohttp_server, test_password_hash)
    yield bridge
    for federation in closing:
        await federation.close()


async def test_a_published_video_post_reaches_x_and_linkedin_as_video(bridge, tmp_path):
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        uploaded = await upload_video(s, bridge.config, user, "stadt", mp4_clip(tmp_path, 4),
                                      "Die Bürgermeisterin spricht", captions=CAPTIONS)
        assert uploaded.ok, uploaded.description
    await bridge.run()  # the `video.process` job converts it before it can be published
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        draft = posts.Draft("stadt", "Neujahrsgruß", media_ids=(uploaded.media.id,), mirrors=("x", "li"))
        result = await posts.create_post(s, bridge.config, user, draft)
        assert result.ok, result.reason
    await bridge.run()
    x_row, li_row = await bridge.send(result.post.id, "x"), await bridge.send(result.post.id, "li")
    assert x_row.state == SendState.SENT and li_row.state == SendState.SENT, (x_row.detail, li_row.detail)
    fake_x, fake_li = bridge.fakes["x"], bridge.fakes["li"]
    [media_id] = fake_x.tweets[x_row.remote_id]["media"]
    assert fake_x.media[media_id]["category"] == "tweet_video"
    assert fake_x.media[media_id]["alt"] == "Die Bürgermeisterin spricht"
    assert sum(fake_x.media[media_id]["parts"]) == fake_x.media[media_id]["total"]
    media = fake_li.posts[li_row.remote_id]["content"]["media"]
    assert media["id"].startswith("urn:li:video:")
    assert fake_li.videos[media["id"]]["captions"].startswith("1\n00:00:00,000")
