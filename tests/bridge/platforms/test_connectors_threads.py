"""The Threads connector against the Threads API fake: TEXT/IMAGE/CAROUSEL containers, the 500-character
count with emoji as UTF-8 bytes, container reconciliation, delete, replies and token refresh."""

from __future__ import annotations

import pytest

from bridge.platforms.connectors.base import Outcome, Reason, Remote
from bridge.platforms.connectors.threads import ThreadsConnector, threads_length
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, image_view, platform, state, view
from fakes.meta import FakeThreads, threads_reply

API = "http://graph.threads.net/v1.0"


@pytest.fixture
async def fake(aiohttp_server):
    fake = FakeThreads()
    server = await aiohttp_server(fake.app())
    fake.http = guarded(MapResolver({"graph.threads.net": ("127.0.0.1", server.port)}), total_timeout=QUICK_TIMEOUT)
    yield fake
    await fake.http.close()


def threads(fake, token="threads-token", account=None):
    connector = ThreadsConnector(platform("threads", API, threads_user_id="me", access_token=token), fake.http,
                                 account or state(), Clock())
    connector.status_waits = ()
    return connector


def test_emoji_count_as_their_utf8_bytes():
    assert threads_length("Grüße") == 5
    assert threads_length("👍") == 4 and threads_length("👍🏽") == 8 and threads_length("👨‍👩‍👧") == 18
    assert threads_length("🇩🇪") == 8


def test_long_text_is_shortened_with_the_permalink_and_more_than_five_links_block():
    connector = ThreadsConnector(platform("threads", API), None, state(), Clock())
    post = view("Sehr langer Text 🎉 " * 40)
    rendered = connector.render(post)
    assert rendered.shortened and rendered.length <= 500 and rendered.text.endswith(post.permalink)
    links = connector.render(view(" ".join(f"https://stadt.example/{n}" for n in range(6))))
    assert links.blocked is Reason.REJECTED


async def test_a_text_post_is_a_text_container_then_published(fake):
    connector = threads(fake)
    result = await connector.publish(connector.render(view("Guten Morgen, Musterstadt!")), "h1")
    assert result.outcome is Outcome.SENT
    container = fake.containers[result.remote.extra["container"]]
    assert container["media_type"] == "TEXT" and container["text"] == "Guten Morgen, Musterstadt!"


async def test_images_carry_alt_text_single_or_as_carousel(fake, tmp_path):
    connector = threads(fake)
    one = await connector.publish(connector.render(view("Eins", images=[image_view(tmp_path, "a.png")])), "h2")
    single = fake.containers[one.remote.extra["container"]]
    assert single["media_type"] == "IMAGE" and single["alt_text"] == "Rathaus im Regen"
    assert single["image_url"] == "https://stadt.example/media/a.png"
    two = await connector.publish(connector.render(view("Zwei", images=[image_view(tmp_path, "a.png"),
                                                                        image_view(tmp_path, "b.png")])), "h3")
    assert fake.containers[two.remote.extra["container"]]["media_type"] == "CAROUSEL"


async def test_an_answer_lost_after_publishing_is_found_by_the_container(fake):
    connector = threads(fake)
    rendered = connector.render(view("Stromausfall"))
    fake.mode = "500_after_write"
    assert (await connector.publish(rendered, "h")).outcome is Outcome.UNKNOWN
    found = await connector.reconcile("h", rendered, connector.clock())
    assert found.outcome is Outcome.SENT and len(fake.media) == 1


async def test_rate_limits_and_expired_tokens(fake):
    connector = threads(fake)
    fake.mode = "429"
    limited = await connector.publish(connector.render(view("x")), "h")
    assert limited.outcome is Outcome.RATE_LIMITED and limited.retry_at > connector.clock()
    assert not fake.media  # the container exists, nothing was published
    fake.mode = "expired"
    assert (await connector.publish(connector.render(view("y")), "h2")).outcome is Outcome.AUTH_FAILED


async def test_delete_edit_and_replies(fake):
    connector = threads(fake)
    sent = await connector.publish(connector.render(view("Umfrage")), "h")
    assert (await connector.edit(sent.remote, connector.render(view("neu")))).reason is Reason.EDIT_UNSUPPORTED
    fake.comments[sent.remote.id] = [threads_reply(1, "Ja"), threads_reply(2, "privat", username=None),
                                     threads_reply(3, "versteckt", hide_status="HIDDEN"),
                                     threads_reply(4, "#nobot"), threads_reply(5, "Nein", username="ben")]
    batch = await connector.fetch_replies(sent.remote)
    assert [r.author_id for r in batch.replies] == ["threads:anna", "threads:ben"] and batch.skipped == 3
    assert batch.replies[0].url == "https://www.threads.com/@anna/post/t1"
    assert (await connector.delete(sent.remote)).outcome is Outcome.SENT and not fake.media
    assert (await connector.delete(sent.remote)).outcome is Outcome.NOT_FOUND


async def test_the_long_lived_token_is_refreshed_with_th_refresh_token(fake):
    connector = threads(fake)
    await connector.check_credentials()
    assert fake.refreshed == 1 and connector.account.token_expires_at is not None
    rotated = threads(fake, token="threads-token-new", account=connector.account)
    fake.tokens.add("threads-token-new")
    await rotated.check_credentials()  # the admin pasted a new token: it replaces the refreshed one
    assert fake.refreshed == 2


async def test_unknown_media_is_not_found(fake):
    assert (await threads(fake).delete(Remote("404"))).outcome is Outcome.NOT_FOUND
