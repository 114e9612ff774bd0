"""The X connector against the API v2 fake: weighted counting, media with alt text, OAuth 2.0 refresh
with single-use refresh tokens, rate-limit headers, no edit, delete, replies only where the plan pays."""

from __future__ import annotations

import pytest

from bridge.platforms.connectors.base import Outcome, Reason, Remote
from bridge.platforms.connectors.x import XConnector, x_length
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, image_view, platform, state, view
from fakes.x import FakeX, x_reply

API = "http://api.x.com"


@pytest.fixture
async def fake(aiohttp_server):
    fake = FakeX()
    server = await aiohttp_server(fake.app())
    fake.http = guarded(MapResolver({"api.x.com": ("127.0.0.1", server.port)}), total_timeout=QUICK_TIMEOUT)
    yield fake
    await fake.http.close()


def x(fake, token="x-token", refresh="x-refresh", account=None, **extra):
    config = platform("x", API, client_id="app-id", access_token=token, refresh_token=refresh, **extra)
    return XConnector(config, fake.http, account or state(), Clock())


def test_weighted_length_follows_twitter_text():
    assert x_length("Grüße aus Köln") == 14  # Latin-1 letters weigh 1
    assert x_length("東京都") == 6 and x_length("👍🏽") == 2 and x_length("👨‍👩‍👧") == 2
    assert x_length("Mehr: https://www.stadt-musterstadt.de/@stadt/123456789 ") == 6 + 23 + 1


def test_a_long_post_is_shortened_at_a_word_with_the_link_counted_as_23():
    connector = XConnector(platform("x", API), None, state(), Clock())
    rendered = connector.render(view("Wort " * 80))
    assert rendered.shortened and rendered.length <= 280 and rendered.unit == "weighted"
    assert connector.capabilities().can_edit is False and connector.capabilities().url_weight == 23


async def test_a_post_with_images_uploads_them_with_alt_text_first(fake, tmp_path):
    connector = x(fake)
    images = [image_view(tmp_path, "a.png", alt="Feuerwehr"), image_view(tmp_path, "b.png", alt="")]
    result = await connector.publish(connector.render(view("Übung heute", images=images)), "h")
    assert result.outcome is Outcome.SENT and result.remote.url.endswith(result.remote.id)
    media = fake.tweets[result.remote.id]["media"]
    assert [fake.media[m]["alt"] for m in media] == ["Feuerwehr", None]
    assert all(fake.media[m]["category"] == "tweet_image" for m in media)


async def test_an_expired_access_token_is_refreshed_once_and_the_new_refresh_token_kept(fake):
    account = state()
    connector = x(fake, token="expired", account=account)
    assert (await connector.publish(connector.render(view("Eins")), "h1")).outcome is Outcome.SENT
    assert fake.refreshed == 1 and account.session["refresh_token"] == "x-refresh-1"
    second = x(fake, token="expired", account=account)  # the same config: the session's tokens are used
    assert (await second.publish(second.render(view("Zwei")), "h2")).outcome is Outcome.SENT
    assert fake.refreshed == 1


async def test_a_spent_refresh_token_means_reconnect(fake):
    connector = x(fake, token="expired", refresh="spent")
    result = await connector.publish(connector.render(view("x")), "h")
    assert result.outcome is Outcome.AUTH_FAILED and "spent" not in result.description


async def test_rate_limits_use_x_rate_limit_reset(fake):
    connector = x(fake)
    fake.mode = "429"
    result = await connector.publish(connector.render(view("x")), "h")
    assert result.outcome is Outcome.RATE_LIMITED and result.retry_at > connector.clock()


async def test_a_timeout_is_unknown_and_goes_to_the_editor(fake):
    connector = x(fake)
    rendered = connector.render(view("Warnung"))
    fake.mode = "timeout_after_write"
    assert (await connector.publish(rendered, "h")).outcome is Outcome.UNKNOWN
    assert (await connector.reconcile("h", rendered, None)).reason is Reason.UNDECIDABLE
    duplicate = await connector.publish(rendered, "h")
    assert duplicate.outcome is Outcome.REJECTED and "duplicate" in duplicate.detail


async def test_no_edit_but_delete(fake):
    connector = x(fake)
    sent = await connector.publish(connector.render(view("alt")), "h")
    assert (await connector.edit(sent.remote, connector.render(view("neu")))).outcome is Outcome.UNSUPPORTED
    assert (await connector.delete(sent.remote)).outcome is Outcome.SENT and not fake.tweets


async def test_replies_are_read_only_where_the_plan_allows(fake):
    off = x(fake)
    assert not off.capabilities().replies_readable
    assert (await off.fetch_replies(Remote("1"))).result.outcome is Outcome.UNSUPPORTED
    assert "search" not in fake.calls
    on = x(fake, read_replies=True)
    fake.replies = [x_reply(1, "99", "Danke"), x_reply(2, "99", "#NoBridge"), x_reply(3, "5", "anderswo")]
    batch = await on.fetch_replies(Remote("99"))
    assert [(r.author_id, r.text) for r in batch.replies] == [("x:777", "Danke")]
    assert batch.skipped == 1 and not batch.complete
