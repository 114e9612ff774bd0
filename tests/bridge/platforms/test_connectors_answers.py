"""Answering a citizen's reply through each connector, against each platform's fake: the request has the
platform's documented shape (threaded under the citizen's reply, as the account), failures are classified
as for posts, and a repeat after an unknown outcome does not make a second answer where the platform can
tell."""

from __future__ import annotations

import pytest

from bridge.platforms.connectors.base import AnswerTarget, Outcome, Reason, Remote
from bridge.platforms.connectors.bluesky import BlueskyConnector
from bridge.platforms.connectors.facebook import FacebookConnector
from bridge.platforms.connectors.instagram import InstagramConnector
from bridge.platforms.connectors.linkedin import LinkedInConnector
from bridge.platforms.connectors.mastodon import MastodonConnector
from bridge.platforms.connectors.telegram import TelegramConnector
from bridge.platforms.connectors.threads import ThreadsConnector
from bridge.platforms.connectors.x import XConnector
from fakes.linkedin import FakeLinkedIn, li_comment
from fakes.meta import FakeFacebook, FakeInstagram, FakeThreads, fb_comment, ig_comment
from fakes.platform_servers import FakeBluesky, FakeMastodon, FakeTelegram, bsky_reply, mastodon_reply
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, platform, state, view
from fakes.x import FakeX

HOSTS = {"bluesky": "bsky.social", "mastodon": "mastodon.example", "telegram": "api.telegram.org",
         "facebook": "graph.facebook.com", "instagram": "graph.instagram.com", "threads": "graph.threads.net",
         "linkedin": "api.linkedin.com", "x": "api.x.com"}
FAKES = {"bluesky": FakeBluesky, "mastodon": FakeMastodon, "telegram": FakeTelegram, "facebook": FakeFacebook,
         "instagram": FakeInstagram, "threads": FakeThreads, "linkedin": FakeLinkedIn, "x": FakeX}
CREDENTIALS = {
    "bluesky": dict(handle="stadt.bsky.social", app_password="app-pass", appview="http://public.api.bsky.app"),
    "mastodon": dict(access_token="mastodon-token"),
    "telegram": dict(bot_token="123:ABC", chat_id="@stadt", discussion_chat_id="-1001"),
    "facebook": dict(page_id="112233", access_token="page-token"),
    "instagram": dict(ig_user_id="17841400000000001", access_token="ig-token"),
    "threads": dict(threads_user_id="me", access_token="threads-token"),
    "linkedin": dict(organization_id="2414183", access_token="li-token", linkedin_version="202609",
                     oauth_base="http://www.linkedin.com"),
    "x": dict(client_id="app-id", access_token="x-token", refresh_token="x-refresh"),
}
BASES = {"facebook": "/v25.0", "instagram": "/v25.0", "threads": "/v1.0"}
CLASSES = {"bluesky": BlueskyConnector, "mastodon": MastodonConnector, "telegram": TelegramConnector,
           "facebook": FacebookConnector, "instagram": InstagramConnector, "threads": ThreadsConnector,
           "linkedin": LinkedInConnector, "x": XConnector}


@pytest.fixture
async def world(aiohttp_server):
    fakes = {kind: cls() for kind, cls in FAKES.items()}
    servers = {kind: await aiohttp_server(fake.app()) for kind, fake in fakes.items()}
    resolver = MapResolver({HOSTS[k]: ("127.0.0.1", s.port) for k, s in servers.items()})
    resolver.mapping["public.api.bsky.app"] = resolver.mapping["bsky.social"]
    http = guarded(resolver, total_timeout=QUICK_TIMEOUT)
    yield fakes, http
    await http.close()


def connector(world, kind: str, account=None):
    fakes, http = world
    config = platform(kind, f"http://{HOSTS[kind]}{BASES.get(kind, '')}", **CREDENTIALS[kind])
    built = CLASSES[kind](config, http, account or state(), Clock())
    if kind in ("instagram", "threads"):
        built.status_waits = ()
    return built


async def answer(built, reply_id: str, root: Remote, text: str, handle: str = "42-answer"):
    return await built.answer(AnswerTarget(reply_id, root), built.render_answer(text, "de"), handle)


async def test_bluesky_answer_has_root_and_parent_strong_refs_and_facets(world):
    fakes, _ = world
    bsky = fakes["bluesky"]
    ours = connector(world, "bluesky")
    post = await ours.publish(ours.render(view("Baustelle Hauptstraße")), "1795305355000-post")
    bsky.thread_replies = [bsky_reply("3kreply", "did:plc:anna", "Wie lange noch?")]
    result = await answer(ours, "at://did:plc:anna/app.bsky.feed.post/3kreply", post.remote,
                          "Bis Freitag, Details: https://stadt.example/baustelle #Baustelle")
    assert result.outcome is Outcome.SENT, result.description
    record = bsky.records[result.remote.extra["rkey"]]
    assert record["reply"]["root"] == {"uri": post.remote.id, "cid": post.remote.extra["cid"]}
    assert record["reply"]["parent"] == {"uri": "at://did:plc:anna/app.bsky.feed.post/3kreply",
                                         "cid": "bafyreply3kreply"}
    kinds = sorted(f["features"][0]["$type"].rsplit("#", 1)[1] for f in record["facets"])
    assert kinds == ["link", "tag"] and record["langs"] == ["de"]
    again = await answer(ours, "at://did:plc:anna/app.bsky.feed.post/3kreply", post.remote, "x")
    assert again.remote.id == result.remote.id  # the same record key: no second answer
    found = await ours.reconcile_answer(AnswerTarget("at://x", post.remote), ours.render_answer("x", "de"),
                                        "42-answer", None)
    assert found.outcome is Outcome.SENT and found.remote.id == result.remote.id


async def test_bluesky_answer_to_a_deleted_reply_is_refused_as_gone(world):
    ours = connector(world, "bluesky")
    post = await ours.publish(ours.render(view("Baustelle")), "1795305355000-post")
    result = await answer(ours, "at://did:plc:anna/app.bsky.feed.post/gone", post.remote, "Danke")
    assert result.outcome is Outcome.REJECTED and result.reason is Reason.REPLY_GONE


async def test_mastodon_answer_resolves_the_reply_and_sets_in_reply_to_id_with_its_own_key(world):
    fakes, _ = world
    masto = fakes["mastodon"]
    masto.descendants = [mastodon_reply(7, "Wann ist das Amt offen?")]
    ours = connector(world, "mastodon")
    root = Remote("100", "https://mastodon.example/@stadt/100")
    result = await answer(ours, "https://social.example/users/anna/statuses/7", root, "Mo–Fr 8–12 Uhr.")
    assert result.outcome is Outcome.SENT, result.description
    status = masto.statuses[result.remote.id]
    assert status["in_reply_to_id"] == "7" and status["visibility"] == "public"
    assert status["content"] == "@anna1@social.example Mo–Fr 8–12 Uhr."  # named, so that Mastodon notifies
    masto.mode = "timeout_after_write"
    target = AnswerTarget("https://social.example/users/anna/statuses/7", root)
    rendered = ours.render_answer("Zweite Antwort", "de")
    lost = await ours.answer(target, rendered, "43-answer")
    assert lost.outcome is Outcome.UNKNOWN
    found = await ours.reconcile_answer(target, rendered, "43-answer", None)
    assert found.outcome is Outcome.SENT and len(masto.statuses) == 2  # the key returned the first one


async def test_mastodon_answer_to_an_unknown_status_is_refused_as_gone(world):
    result = await answer(connector(world, "mastodon"), "https://social.example/users/anna/statuses/99",
                          Remote("100"), "Danke")
    assert result.outcome is Outcome.REJECTED and result.reason is Reason.REPLY_GONE


async def test_telegram_answer_replies_in_the_discussion_group_and_cannot_be_reconciled(world):
    fakes, _ = world
    ours = connector(world, "telegram")
    result = await answer(ours, "telegram:-1001:905", Remote("41"), "Danke <3 & bis bald")
    assert result.outcome is Outcome.SENT, result.description
    message = fakes["telegram"].messages[int(result.remote.id)]
    assert message["chat_id"] == "-1001" and message["reply_parameters"]["message_id"] == 905
    assert message["text"] == "Danke &lt;3 &amp; bis bald"
    unknown = await ours.reconcile_answer(AnswerTarget("telegram:-1001:905", Remote("41")),
                                          ours.render_answer("x", "de"), "h", None)
    assert unknown.outcome is Outcome.UNKNOWN and unknown.reason is Reason.UNDECIDABLE


async def test_facebook_answer_is_a_reply_under_the_comment(world):
    fakes, _ = world
    fb = fakes["facebook"]
    fb.comments["112233_1"] = [fb_comment(1, "Warum?")]
    result = await answer(connector(world, "facebook"), "facebook:c1", Remote("112233_1"), "Weil …")
    assert result.outcome is Outcome.SENT, result.description
    assert fb.comment_replies["c1"] == [{"id": result.remote.id, "message": "Weil …"}]
    assert "POST c1/comments" in fb.calls


async def test_facebook_timeout_after_the_write_is_unknown_and_goes_to_the_editor(world):
    fakes, _ = world
    fb = fakes["facebook"]
    fb.comments["112233_1"] = [fb_comment(1, "Warum?")]
    fb.mode = "timeout_after_write"
    ours = connector(world, "facebook")
    result = await answer(ours, "facebook:c1", Remote("112233_1"), "Weil …")
    assert result.outcome is Outcome.UNKNOWN
    found = await ours.reconcile_answer(AnswerTarget("facebook:c1", Remote("112233_1")),
                                        ours.render_answer("Weil …", "de"), "42-answer", None)
    assert found.reason is Reason.UNDECIDABLE and len(fb.comment_replies["c1"]) == 1


async def test_instagram_answer_is_a_reply_to_the_comment(world):
    fakes, _ = world
    ig = fakes["instagram"]
    ig.comments["m1"] = [ig_comment(5, "Schönes Foto")]
    result = await answer(connector(world, "instagram"), "instagram:ig5", Remote("m1"), "Danke!")
    assert result.outcome is Outcome.SENT, result.description
    assert ig.comment_replies["ig5"][0]["message"] == "Danke!"
    assert "POST ig5/replies" in ig.calls


async def test_threads_answer_is_a_reply_container_published_once(world):
    fakes, _ = world
    th = fakes["threads"]
    ours = connector(world, "threads")
    result = await answer(ours, "threads:t3", Remote("9"), "Wir kümmern uns.")
    assert result.outcome is Outcome.SENT, result.description
    container = th.containers[result.remote.extra["container"]]
    assert container["reply_to_id"] == "t3" and container["media_type"] == "TEXT"
    assert container["text"] == "Wir kümmern uns."
    found = await ours.reconcile_answer(AnswerTarget("threads:t3", Remote("9")),
                                        ours.render_answer("Wir kümmern uns.", "de"), "42-answer", None)
    assert found.outcome is Outcome.SENT and len(th.media) == 1


async def test_linkedin_answer_is_a_nested_comment_as_the_organisation(world):
    fakes, _ = world
    li = fakes["linkedin"]
    li.comments["urn:li:share:1"] = [li_comment(8, "urn:li:share:1", "Gilt das auch samstags?")]
    parent = "urn:li:comment:(urn:li:share:1,8)"
    result = await answer(connector(world, "linkedin"), parent, Remote("urn:li:share:1"), "Ja (auch samstags).")
    assert result.outcome is Outcome.SENT, result.description
    written = li.nested[0]
    assert written["parentComment"] == parent and written["object"] == "urn:li:share:1"
    assert written["actor"] == "urn:li:organization:2414183"
    assert written["message"]["text"] == "Ja \\(auch samstags\\)."  # reserved characters escaped


async def test_x_answer_is_a_reply_to_the_post(world):
    fakes, _ = world
    result = await answer(connector(world, "x"), "x:1234", Remote("999"), "Danke für den Hinweis.")
    assert result.outcome is Outcome.SENT, result.description
    assert fakes["x"].tweets[result.remote.id]["in_reply_to"] == "1234"


async def test_refused_credentials_are_auth_failed_on_every_platform(world):
    for kind, reply_id in (("mastodon", "https://social.example/users/anna/statuses/7"),
                           ("facebook", "facebook:c1"), ("x", "x:1")):
        built = connector(world, kind)
        config = platform(kind, built.platform.api_base, **{**CREDENTIALS[kind], "access_token": "wrong",
                                                                     "refresh_token": "wrong"})
        wrong = CLASSES[kind](config, built.http, state(), Clock())
        result = await answer(wrong, reply_id, Remote("1"), "Hallo")
        assert result.outcome is Outcome.AUTH_FAILED, (kind, result)


def test_answers_are_never_shortened_and_counted_in_the_platforms_unit():
    bsky = BlueskyConnector(platform("bluesky", "http://bsky.social"), None, state(), Clock())
    assert not bsky.render_answer("Wort " * 70, "de").fits  # 350 graphemes > 300
    li = LinkedInConnector(platform("linkedin", "http://api.linkedin.com"), None, state(), Clock())
    assert li.render_answer("a" * 1250, "de").fits and not li.render_answer("(" * 700, "de").fits
    tg = TelegramConnector(platform("telegram", "http://api.telegram.org"), None, state(), Clock())
    assert tg.render_answer("👍" * 2048, "de").length == 4096
