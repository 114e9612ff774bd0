"""The YouTube connector against the Data API v3 fake: a video post goes up in a resumable upload with its
captions as a caption track, a broken upload is resumed where it stopped, an unknown outcome is settled by the
marker in the description, edits, deletes, comments, answers, statistics, token refresh and quota."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge.platforms.connectors.base import AnswerTarget, Outcome, Reason, Remote
from bridge.platforms.connectors.youtube import YouTubeConnector, marker
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, image_view, platform, state, video_view, view
from fakes.youtube import CHANNEL, FakeYouTube, comment, youtube_thread

API = "http://www.googleapis.com"


@pytest.fixture
async def fake(aiohttp_server):
    fake = FakeYouTube()
    server = await aiohttp_server(fake.app())
    hosts = ("www.googleapis.com", "oauth2.googleapis.com")
    fake.http = guarded(MapResolver({h: ("127.0.0.1", server.port) for h in hosts}), total_timeout=QUICK_TIMEOUT)
    yield fake
    await fake.http.close()


def youtube(fake, token="yt-token", refresh="yt-refresh", account=None, clock=None, **extra):
    config = platform("youtube", API, client_id="yt-client", client_secret="yt-secret", access_token=token,
                      refresh_token=refresh, oauth_base="http://oauth2.googleapis.com", **extra)
    return YouTubeConnector(config, fake.http, account or state(), clock or Clock())


@pytest.fixture
def video(tmp_path):
    return video_view(tmp_path)


async def test_a_video_post_is_uploaded_with_title_description_and_a_caption_track(fake, video):
    connector = youtube(fake, privacy_status="unlisted")
    post = view("Neujahrsgruß der Bürgermeisterin <live>\nAlles Gute für 2027!", videos=[video])
    rendered = connector.render(post)
    assert rendered.fits and not rendered.images
    assert rendered.extra["title"] == "Neujahrsgruß der Bürgermeisterin ‹live›"
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.SENT, result.description
    uploaded = fake.videos[result.remote.id]
    assert result.remote.url == f"https://www.youtube.com/watch?v={result.remote.id}"
    assert uploaded["bytes"] == video.size and uploaded["status"]["privacyStatus"] == "unlisted"
    description = uploaded["snippet"]["description"]
    assert post.permalink in description and description.endswith(marker(post.post_id)) and "<" not in description
    assert uploaded["snippet"]["defaultLanguage"] == "de"
    [caption] = fake.captions
    assert caption["snippet"] == {"videoId": result.remote.id, "language": "de", "name": "Deutsch", "isDraft": False}
    assert caption["track"].startswith("WEBVTT") and caption["type"] == "text/vtt"
    assert result.remote.extra["captions"] == caption["id"]


async def test_a_video_whose_captions_are_refused_stays_sent_and_says_what_is_missing(fake, video):
    connector = youtube(fake)
    fake.mode = "captions_quota"
    result = await connector.publish(connector.render(view("Ohne Untertitel", videos=[video])), "h")
    assert result.outcome is Outcome.SENT and result.remote.id in fake.videos and not fake.captions
    assert result.detail.startswith("captions not added") and "quotaExceeded" in result.detail
    assert result.remote.extra == {"captions": None, "captions_failed": "rate_limited"}


def test_a_post_without_a_video_is_blocked_with_its_reason(tmp_path):
    connector = YouTubeConnector(platform("youtube", API), None, state(), Clock())
    rendered = connector.render(view("Nur Text", images=[image_view(tmp_path)]))
    assert rendered.blocked is Reason.VIDEO_REQUIRED and not rendered.fits
    assert "video" in rendered.blocked.description
    caps = connector.capabilities()
    assert caps.video and caps.video_captions and caps.requires_video


def test_a_long_text_fits_5000_bytes_and_a_long_first_line_100_characters(video):
    connector = YouTubeConnector(platform("youtube", API), None, state(), Clock())
    post = view("Überschrift " * 20 + "\n" + "Straßenbäume " * 600, videos=[video])
    rendered = connector.render(post)
    assert rendered.shortened and len(rendered.text.encode()) <= 5000 and rendered.fits
    assert rendered.text.endswith(marker(post.post_id)) and post.permalink in rendered.text
    assert len(rendered.extra["title"]) <= 100 and rendered.extra["title"].endswith("Überschrift…")


async def test_a_broken_upload_is_resumed_from_where_it_stopped(fake, video):
    connector = youtube(fake)
    fake.mode = "drop"
    result = await connector.publish(connector.render(view("Rathaus live", videos=[video])), "h")
    assert result.outcome is Outcome.SENT, result.description
    assert fake.calls.count("open upload") == 1 and "upload dropped" in fake.calls and "upload status" in fake.calls
    half = video.size // 2
    assert fake.puts[-1]["range"] == f"bytes {half}-{video.size - 1}/{video.size}"
    assert fake.puts[-1]["length"] == video.size - half
    assert fake.videos[result.remote.id]["bytes"] == video.size and len(fake.videos) == 1


async def test_an_unknown_outcome_is_reconciled_by_the_marker_among_the_uploads(fake, video):
    clock = Clock()
    connector = youtube(fake, clock=clock)
    since = clock()
    other = await connector.publish(connector.render(view("Anderes Video", post_id=41, videos=[video])), "h0")
    rendered = connector.render(view("Stadtratssitzung", videos=[video]))
    fake.mode = "500_after_write"
    lost = await connector.publish(rendered, "h")
    assert lost.outcome is Outcome.UNKNOWN
    found = await connector.reconcile("h", rendered, since)
    assert found.outcome is Outcome.SENT and found.remote.id != other.remote.id
    # The answer that never came also kept the captions back: they are added now, once.
    assert [c["snippet"]["videoId"] for c in fake.captions] == [other.remote.id, found.remote.id]
    assert (await connector.reconcile("h", rendered, since)).remote.id == found.remote.id
    assert len(fake.captions) == 2 and fake.calls.count("captions.list") == 2
    assert marker((1795305355000 << 16) | 7) in fake.videos[found.remote.id]["snippet"]["description"]
    missing = connector.render(view("Nie angekommen", post_id=99, videos=[video]))
    assert (await connector.reconcile("h2", missing, since)).outcome is Outcome.UNKNOWN  # the listing may lag
    clock.advance(minutes=5)
    assert (await connector.reconcile("h2", missing, since)).outcome is Outcome.NOT_FOUND
    assert fake.calls.count("channels") == 1  # the uploads playlist is asked once


async def test_edit_updates_title_and_description_and_delete_removes_the_video(fake, video):
    connector = youtube(fake)
    sent = await connector.publish(connector.render(view("Alt", videos=[video])), "h")
    edited = await connector.edit(sent.remote, connector.render(view("Neu\nMit mehr Text", videos=[video])))
    assert edited.outcome is Outcome.SENT
    snippet = fake.videos[sent.remote.id]["snippet"]
    assert snippet["title"] == "Neu" and "Mit mehr Text" in snippet["description"] and snippet["categoryId"] == "22"
    assert (await connector.delete(sent.remote)).outcome is Outcome.SENT and not fake.videos
    assert (await connector.delete(sent.remote)).outcome is Outcome.NOT_FOUND


async def test_comments_and_their_replies_come_back_without_opt_outs_or_our_own(fake):
    video = "vid1"
    fake.threads[video] = [
        youtube_thread("c1", video, "Schönes Video", replies=(
            comment("c1.r1", "Finde ich auch", "UCnachbar", video=video),
            comment("c1.r2", "Danke!", CHANNEL, video=video))),
        youtube_thread("c2", video, "Bitte nicht weitergeben #nobridge"),
        youtube_thread("c3", video, "Wann ist die nächste Sitzung?"),
    ]
    fake.page_size = 2
    batch = await youtube(fake).fetch_replies(Remote(video))
    assert batch.result.outcome is Outcome.SENT and batch.complete and batch.skipped == 1
    assert [(r.reply_id, r.author_id, r.text) for r in batch.replies] == [
        ("youtube:c1", "youtube:UCbuerger000000000000000", "Schönes Video"),
        ("youtube:c1.r1", "youtube:UCnachbar", "Finde ich auch"),
        ("youtube:c3", "youtube:UCbuerger000000000000000", "Wann ist die nächste Sitzung?")]
    assert batch.replies[0].url == "https://www.youtube.com/watch?v=vid1&lc=c1"
    assert fake.calls.count("commentThreads") == 2
    fake.threads[video][2]["snippet"]["totalReplyCount"] = 5  # the thread carries only some of its replies
    assert not (await youtube(fake).fetch_replies(Remote(video))).complete
    fake.comments_disabled.add(video)
    disabled = await youtube(fake).fetch_replies(Remote(video))
    assert disabled.result.outcome is Outcome.UNSUPPORTED and not disabled.replies


async def test_an_answer_goes_into_the_comments_thread_and_is_found_after_a_timeout(fake):
    fake.threads["vid1"] = [youtube_thread("c1", "vid1", "Frage", replies=(comment("c1.r1", "Auch", video="vid1"),))]
    connector = youtube(fake)
    target = AnswerTarget("youtube:c1.r1", Remote("vid1"))
    rendered = connector.render_answer("Die Sitzung ist am Dienstag.", "de")
    result = await connector.answer(target, rendered, "a1")
    assert result.outcome is Outcome.SENT and result.remote.id.startswith("c1.")
    assert fake.inserted[-1] == {"snippet": {"parentId": "c1", "textOriginal": "Die Sitzung ist am Dienstag."}}
    fake.mode = "timeout_after_write"
    again = connector.render_answer("Und um 18 Uhr.", "de")
    assert (await connector.answer(target, again, "a2")).outcome is Outcome.UNKNOWN
    found = await connector.reconcile_answer(target, again, "a2", connector.clock() - timedelta(minutes=1))
    assert found.outcome is Outcome.SENT and found.remote.url.startswith("https://www.youtube.com/watch?v=vid1&lc=")
    assert (await connector.answer(AnswerTarget("x:1", Remote("vid1")), rendered, "a3")).reason is Reason.REPLY_GONE


async def test_metrics_are_the_videos_statistics(fake, video):
    connector = youtube(fake)
    sent = await connector.publish(connector.render(view("Zahlen", videos=[video])), "h")
    fake.statistics[sent.remote.id] = {"viewCount": "1234", "likeCount": "56", "favoriteCount": "0",
                                       "commentCount": "7"}
    metrics = await connector.fetch_metrics(sent.remote)
    assert metrics.result.outcome is Outcome.SENT
    assert metrics.counts == {"views": 1234, "likes": 56, "replies": 7}
    assert (await connector.fetch_metrics(Remote("gone"))).result.outcome is Outcome.NOT_FOUND


async def test_an_expired_access_token_is_refreshed_once_and_kept(fake, video):
    account = state()
    connector = youtube(fake, token="expired", account=account)
    assert (await connector.check_credentials()).outcome is Outcome.SENT
    assert fake.refreshed == 1 and account.session["access_token"] == "yt-token-1"
    assert account.limits["channel_id"] == CHANNEL
    again = youtube(fake, token="expired", account=account)
    assert (await again.publish(again.render(view("Zwei", videos=[video])), "h")).outcome is Outcome.SENT
    assert fake.refreshed == 1


async def test_a_revoked_refresh_token_means_reconnect(fake):
    result = await youtube(fake, token="expired", refresh="revoked").check_credentials()
    assert result.outcome is Outcome.AUTH_FAILED and "revoked" not in result.detail.replace("refresh token", "")


async def test_quota_and_429_pause_the_platform(fake, video):
    connector = youtube(fake)
    rendered = connector.render(view("Quote", videos=[video]))
    fake.mode = "quota"
    quota = await connector.publish(rendered, "h")
    assert quota.outcome is Outcome.RATE_LIMITED and quota.detail == "quotaExceeded"
    assert quota.retry_at > connector.clock() and quota.retry_at - connector.clock() <= timedelta(days=1)
    fake.mode = "429"
    brief = await connector.publish(rendered, "h")
    assert brief.outcome is Outcome.RATE_LIMITED and brief.retry_at == connector.clock() + timedelta(seconds=120)
    assert not fake.videos


async def test_a_refused_title_is_rejected_with_youtubes_message(fake, video):
    connector = youtube(fake)
    rendered = connector.render(view("Titel", videos=[video]))
    rendered.extra["title"] = "x" * 101  # as if a title slipped through: YouTube's 400 reaches the editor
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.REJECTED and "invalid video title" in result.detail
