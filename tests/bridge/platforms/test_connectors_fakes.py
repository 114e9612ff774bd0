"""Each connector against its platform's fake, reached by its real host name through a resolver."""

from __future__ import annotations

import pytest

from bridge.platforms.connectors.base import Outcome, Reason, Remote
from bridge.platforms.connectors.bluesky import BlueskyConnector
from bridge.platforms.connectors.mastodon import MastodonConnector
from bridge.platforms.connectors.telegram import TelegramConnector
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, image_view, platform, state, view
from fakes.platform_servers import (
    FakeBluesky, FakeMastodon, FakeTelegram, bsky_reply, mastodon_reply, telegram_comment,
)


@pytest.fixture
async def fakes(aiohttp_server):
    bsky, masto, tg = FakeBluesky(), FakeMastodon(), FakeTelegram()
    servers = {"bsky.social": await aiohttp_server(bsky.app()), "mastodon.example": await aiohttp_server(masto.app()),
               "api.telegram.org": await aiohttp_server(tg.app())}
    resolver = MapResolver({host: ("127.0.0.1", s.port) for host, s in servers.items()})
    resolver.mapping["public.api.bsky.app"] = resolver.mapping["bsky.social"]
    http = guarded(resolver, total_timeout=QUICK_TIMEOUT)
    yield {"bluesky": bsky, "mastodon": masto, "telegram": tg, "http": http}
    await http.close()


def bluesky(fakes, password="app-pass", account=None):
    return BlueskyConnector(platform("bluesky", "http://bsky.social", handle="stadt.bsky.social",
                                     app_password=password, appview="http://public.api.bsky.app"),
                            fakes["http"], account or state(), Clock())


def mastodon(fakes, token="mastodon-token"):
    return MastodonConnector(platform("mastodon", "http://mastodon.example", access_token=token),
                             fakes["http"], state(), Clock())


def telegram(fakes, token="123:ABC"):
    return TelegramConnector(platform("telegram", "http://api.telegram.org", bot_token=token, chat_id="@stadt",
                                      discussion_chat_id="-1001"), fakes["http"], state(), Clock())


async def test_bluesky_logs_in_once_and_reuses_the_session(fakes):
    account = state()
    for n in range(3):
        connector = bluesky(fakes, account=account)
        result = await connector.publish(connector.render(view(f"Post {n}")), f"1795305355000-{n}")
        assert result.outcome is Outcome.SENT
    assert fakes["bluesky"].sessions_created == 1


async def test_bluesky_expired_token_is_refreshed_and_the_call_repeated(fakes):
    connector = bluesky(fakes)
    fakes["bluesky"].mode = "expired"
    result = await connector.publish(connector.render(view("Hallo")), "1795305355000-x")
    assert result.outcome is Outcome.SENT and fakes["bluesky"].refreshed == 1


async def test_bluesky_timeout_after_the_write_is_settled_by_reading_the_record_key(fakes):
    connector = bluesky(fakes)
    rendered = connector.render(view("Stromausfall in der Altstadt"))
    fakes["bluesky"].mode = "timeout_after_write"
    first = await connector.publish(rendered, "1795305355000-t")
    assert first.outcome is Outcome.SENT and "getRecord" in fakes["bluesky"].calls
    found = await connector.reconcile("1795305355000-t", rendered, None)
    assert found.outcome is Outcome.SENT and found.remote.id == first.remote.id
    again = await connector.publish(rendered, "1795305355000-t")  # even a blind repeat stays one post
    assert again.outcome is Outcome.SENT and len(fakes["bluesky"].records) == 1


async def test_bluesky_rate_limit_reports_the_reset_time(fakes):
    connector = bluesky(fakes)
    fakes["bluesky"].mode = "429"
    result = await connector.publish(connector.render(view("x")), "1795305355000-r")
    assert result.outcome is Outcome.RATE_LIMITED and result.retry_at is not None


async def test_bluesky_wrong_password_is_auth_failed(fakes):
    result = await bluesky(fakes, password="wrong").check_credentials()
    assert result.outcome is Outcome.AUTH_FAILED and "Invalid identifier" in result.detail


async def test_bluesky_malformed_answer_after_create_is_unknown(fakes):
    connector = bluesky(fakes)
    fakes["bluesky"].mode = "malformed"
    result = await connector.publish(connector.render(view("x")), "1795305355000-m")
    assert result.outcome is Outcome.UNKNOWN and result.reason is Reason.MALFORMED_RESPONSE


async def test_bluesky_mentions_resolve_to_dids_and_unknown_handles_stay_text(fakes):
    connector = bluesky(fakes)
    await connector.publish(connector.render(view("Danke @presse.bsky.social und @niemand.bsky.social")),
                            "1795305355000-n")
    record = next(iter(fakes["bluesky"].records.values()))
    mentions = [f["features"][0] for f in record["facets"] if f["features"][0]["$type"].endswith("#mention")]
    assert mentions == [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:presse"}]


async def test_bluesky_backfeed_keeps_public_replies_and_skips_opt_outs(fakes):
    fakes["bluesky"].thread_replies = [
        bsky_reply("r1", "did:plc:anna", "Danke für die Info!"),
        bsky_reply("r2", "did:plc:bernd", "Bitte nicht spiegeln", labels=["!no-unauthenticated"]),
        bsky_reply("r3", "did:plc:carla", "#nobridge privat"),
        bsky_reply("r4", "did:plc:dora", "", deleted=True),
    ]
    batch = await bluesky(fakes).fetch_replies(Remote("at://did:plc:stadt/app.bsky.feed.post/abc"))
    assert [r.author_id for r in batch.replies] == ["did:plc:anna"]
    assert batch.skipped == 2 and batch.gone == ("at://did:plc:dora/app.bsky.feed.post/r4",)
    assert batch.replies[0].url == "https://bsky.app/profile/did:plc:anna/post/r1"


async def test_mastodon_reads_instance_limits_and_posts_images_with_descriptions(fakes, tmp_path):
    connector = mastodon(fakes)
    assert (await connector.check_credentials()).outcome is Outcome.SENT
    assert connector.capabilities().text_limit == 1000
    rendered = connector.render(view("Neues Bürgerbüro", images=[image_view(tmp_path, alt="Eingang")], spoiler="Bau"))
    result = await connector.publish(rendered, "key-1")
    status = fakes["mastodon"].statuses[result.remote.id]
    assert status["media_attachments"][0]["description"] == "Eingang" and status["spoiler_text"] == "Bau"


async def test_mastodon_timeout_after_write_is_reconciled_by_the_idempotency_key(fakes):
    connector = mastodon(fakes)
    rendered = connector.render(view("Wahllokale geöffnet"))
    fakes["mastodon"].mode = "timeout_after_write"
    assert (await connector.publish(rendered, "key-t")).outcome is Outcome.UNKNOWN
    found = await connector.reconcile("key-t", rendered, Clock()())
    assert found.outcome is Outcome.SENT and len(fakes["mastodon"].statuses) == 1


async def test_mastodon_errors_are_classified(fakes):
    connector = mastodon(fakes)
    rendered = connector.render(view("x"))
    fakes["mastodon"].mode = "429"
    assert (await connector.publish(rendered, "k1")).outcome is Outcome.RATE_LIMITED
    fakes["mastodon"].mode = "422"
    rejected = await connector.publish(rendered, "k2")
    assert rejected.outcome is Outcome.REJECTED and "character limit" in rejected.detail
    fakes["mastodon"].mode = "502_after_write"
    assert (await connector.publish(rendered, "k3")).outcome is Outcome.UNKNOWN
    assert (await mastodon(fakes, token="bad").publish(rendered, "k4")).outcome is Outcome.AUTH_FAILED


async def test_mastodon_edit_delete_and_backfeed_of_public_replies_only(fakes):
    connector = mastodon(fakes)
    sent = await connector.publish(connector.render(view("alt")), "k")
    assert (await connector.edit(sent.remote, connector.render(view("neu")))).outcome is Outcome.SENT
    assert fakes["mastodon"].statuses[sent.remote.id]["content"] == "neu"
    fakes["mastodon"].descendants = [mastodon_reply(1, "öffentlich"), mastodon_reply(2, "privat", "private"),
                                     mastodon_reply(3, "direkt", "direct"), mastodon_reply(5, "x", note="<p>#NoBot</p>")]
    batch = await connector.fetch_replies(sent.remote)
    assert [r.text for r in batch.replies] == ["öffentlich"] and batch.skipped == 3
    assert (await connector.delete(sent.remote)).outcome is Outcome.SENT


async def test_telegram_sends_html_photos_and_reports_timeouts_as_undecidable(fakes, tmp_path):
    connector = telegram(fakes)
    text = connector.render(view("Sperrung <Hauptstraße> & Umleitung"))
    sent = await connector.publish(text, "h")
    assert sent.outcome is Outcome.SENT and sent.remote.url == f"https://t.me/stadt/{sent.remote.id}"
    group = connector.render(view("Bilder", images=[image_view(tmp_path, "a.png"), image_view(tmp_path, "b.png")]))
    album = await connector.publish(group, "h2")
    assert len(album.remote.extra["message_ids"]) == 2 and album.remote.extra["caption"]
    fakes["telegram"].mode = "timeout_after_write"
    unknown = await connector.publish(text, "h3")
    assert unknown.outcome is Outcome.UNKNOWN
    assert (await connector.reconcile("h3", text, None)).reason is Reason.UNDECIDABLE


async def test_telegram_rate_limit_uses_retry_after(fakes):
    connector = telegram(fakes)
    fakes["telegram"].mode = "429"
    result = await connector.publish(connector.render(view("x")), "h")
    assert result.outcome is Outcome.RATE_LIMITED
    assert (result.retry_at - connector.clock()).total_seconds() == 7


async def test_telegram_edit_and_delete_within_48_hours_but_not_after(fakes):
    connector = telegram(fakes)
    sent = await connector.publish(connector.render(view("alt")), "h")
    assert (await connector.edit(sent.remote, connector.render(view("neu")))).outcome is Outcome.SENT
    assert (await connector.edit(sent.remote, connector.render(view("neu")))).outcome is Outcome.SENT  # not modified
    connector.clock.advance(hours=49)
    late = await connector.delete(sent.remote)
    assert late.outcome is Outcome.MANUAL and late.reason is Reason.DELETE_TOO_LATE
    connector.clock.advance(hours=-48)
    assert (await connector.delete(sent.remote)).outcome is Outcome.SENT


async def test_telegram_bad_token_is_auth_failed_and_never_shows_the_token(fakes):
    result = await telegram(fakes, token="999:WRONG").check_credentials()
    assert result.outcome is Outcome.AUTH_FAILED and "WRONG" not in result.description


async def test_telegram_comments_come_from_the_discussion_group_updates(fakes):
    connector = telegram(fakes)
    fakes["telegram"].updates = [telegram_comment(1, 41, 555, "Wann ist die Straße wieder frei?"),
                                 telegram_comment(2, 41, 556, "#nobot bitte nicht"),
                                 telegram_comment(3, 41, 557, "anderswo", group=-2002)]
    batch = await connector.fetch_replies(Remote("41"))
    assert [(r.author_id, r.root_id) for r in batch.replies] == [("telegram:555", "41")]
    assert connector.account.cursor == "4"
    again = await connector.fetch_replies(Remote("41"))
    assert again.replies == ()


async def test_a_platform_that_is_down_is_unavailable_not_unknown(fakes):
    http = fakes["http"]
    connector = MastodonConnector(platform("mastodon", "http://down.example", access_token="t"), http, state(), Clock())
    result = await connector.publish(connector.render(view("x")), "k")
    assert result.outcome is Outcome.UNAVAILABLE
