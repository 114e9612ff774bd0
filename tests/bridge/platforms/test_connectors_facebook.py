"""The Facebook Page connector against the Graph API fake, reached by its real host name."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge.platforms.connectors.base import Outcome, Reason, Remote
from bridge.platforms.connectors.facebook import FacebookConnector
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, image_view, platform, state, view
from fakes.meta import FakeFacebook, fb_comment

API = "http://graph.facebook.com/v25.0"


@pytest.fixture
async def fake(aiohttp_server):
    fake = FakeFacebook()
    server = await aiohttp_server(fake.app())
    fake.http = guarded(MapResolver({"graph.facebook.com": ("127.0.0.1", server.port)}), total_timeout=QUICK_TIMEOUT)
    yield fake
    await fake.http.close()


def facebook(fake, token="page-token", account=None, clock=None):
    return FacebookConnector(platform("facebook", API, page_id="112233", access_token=token), fake.http,
                             account or state(), clock or Clock())


async def test_a_link_post_goes_to_the_feed_with_the_link_for_facebooks_card(fake):
    connector = facebook(fake)
    rendered = connector.render(view("Baustelle Hauptstraße: https://stadt.example/baustelle"))
    assert rendered.link == "https://stadt.example/baustelle" and rendered.fits
    result = await connector.publish(rendered, "h1")
    assert result.outcome is Outcome.SENT and result.remote.id.startswith("112233_")
    post = fake.posts[result.remote.id]
    assert post["link"] == "https://stadt.example/baustelle" and post["message"] == rendered.text


async def test_images_are_uploaded_unpublished_with_alt_text_and_attached_to_one_post(fake, tmp_path):
    connector = facebook(fake)
    images = [image_view(tmp_path, "a.png", alt="Rathaus"), image_view(tmp_path, "b.png", alt="")]
    result = await connector.publish(connector.render(view("Zwei Bilder", images=images)), "h2")
    post = fake.posts[result.remote.id]
    assert len(post["attached"]) == 2 and post["link"] is None
    assert [fake.photos[p]["alt"] for p in post["attached"]] == ["Rathaus", None]
    assert all(fake.photos[p]["published"] == "false" for p in post["attached"])


async def test_edit_and_delete(fake):
    connector = facebook(fake)
    sent = await connector.publish(connector.render(view("alt")), "h")
    assert (await connector.edit(sent.remote, connector.render(view("neu")))).outcome is Outcome.SENT
    assert fake.posts[sent.remote.id]["message"] == "neu"
    assert (await connector.delete(sent.remote)).outcome is Outcome.SENT and not fake.posts
    gone = await connector.delete(sent.remote)
    assert gone.outcome is Outcome.NOT_FOUND  # already gone counts as deleted for the machinery


async def test_throttling_codes_and_usage_headers_give_the_time_to_wait(fake):
    connector = facebook(fake)
    fake.mode = "429"
    result = await connector.publish(connector.render(view("x")), "h")
    assert result.outcome is Outcome.RATE_LIMITED and "80001" in result.detail
    assert result.retry_at - connector.clock() == timedelta(minutes=17)


async def test_an_invalid_token_is_auth_failed(fake):
    result = await facebook(fake, token="revoked").check_credentials()
    assert result.outcome is Outcome.AUTH_FAILED and "190" in result.detail and "revoked" not in result.description
    fake.mode = "expired"
    connector = facebook(fake)
    assert (await connector.publish(connector.render(view("x")), "h")).reason is Reason.INVALID_CREDENTIALS


async def test_a_timeout_after_the_write_is_unknown_and_reconciled_by_finding_the_text(fake):
    clock = Clock()
    connector = facebook(fake, clock=clock)
    rendered = connector.render(view("Hochwasser am Rhein"))
    fake.mode = "timeout_after_write"
    first = await connector.publish(rendered, "h")
    assert first.outcome is Outcome.UNKNOWN and first.reason is Reason.TIMEOUT
    found = await connector.reconcile("h", rendered, clock())
    assert found.outcome is Outcome.SENT and found.remote.id in fake.posts and len(fake.posts) == 1


async def test_a_post_not_listed_is_not_found_only_after_the_listing_settled(fake):
    clock = Clock()
    connector = facebook(fake, clock=clock)
    rendered = connector.render(view("Nie angekommen"))
    since = clock()
    assert (await connector.reconcile("h", rendered, since)).outcome is Outcome.UNKNOWN
    clock.advance(minutes=3)
    assert (await connector.reconcile("h", rendered, since)).outcome is Outcome.NOT_FOUND


async def test_a_500_after_the_write_is_unknown(fake):
    connector = facebook(fake)
    fake.mode = "500_after_write"
    result = await connector.publish(connector.render(view("x")), "h")
    assert result.outcome is Outcome.UNKNOWN and result.reason is Reason.SERVER_ERROR


async def test_comments_are_read_across_pages_without_names_hidden_ones_or_opt_outs(fake):
    fake.comments["112233_1"] = [fb_comment(1, "Danke!"), fb_comment(2, "versteckt", hidden=True),
                                 fb_comment(3, "#NoBot bitte nicht"), fb_comment(4, "ohne Autor", with_author=False),
                                 fb_comment(5, "Wann?", user="9002")]
    batch = await facebook(fake).fetch_replies(Remote("112233_1"))
    assert [(r.author_id, r.text) for r in batch.replies] == [("facebook:9001", "Danke!"), ("facebook:9002", "Wann?")]
    assert batch.skipped == 3 and batch.complete
    assert all("Anna" not in repr(r) for r in batch.replies)


async def test_capabilities_are_declared():
    caps = FacebookConnector(platform("facebook", API, page_id="1", access_token="t"), None, state(),
                             Clock()).capabilities()
    assert caps.can_edit and caps.can_delete and caps.replies_readable and caps.alt_text and caps.text_limit == 63206


async def test_the_posts_totals_are_read_as_summaries_and_a_failure_gives_no_counts(fake):
    connector = facebook(fake)
    sent = await connector.publish(connector.render(view("Stadtfest am Wochenende")), "h1")
    fake.metrics[sent.remote.id] = {"reactions": {"data": [], "summary": {"total_count": 11}},
                                    "comments": {"data": [], "summary": {"total_count": 4}}}
    metrics = await connector.fetch_metrics(sent.remote)
    assert metrics.result.outcome is Outcome.SENT
    assert metrics.counts == {"likes": 11, "replies": 4, "reposts": 0}  # no `shares` field: nobody shared it
    gone = await connector.fetch_metrics(Remote("112233_404"))
    assert gone.result.outcome is not Outcome.SENT and gone.counts == {}
