"""The LinkedIn connector against the REST API fake: version headers, little-text escaping, the post URN
from `x-restli-id`, images with altText, article cards, partial updates, deletes, comments, refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge.platforms.connectors.base import Outcome, Reason, Remote
from bridge.platforms.connectors.linkedin import LinkedInConnector
from bridge.platforms.connectors.linkedin_rest import escape_little, unescape_little
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, image_view, platform, site_app, state, view
from fakes.linkedin import FakeLinkedIn, li_comment

API = "http://api.linkedin.com"


@pytest.fixture
async def fake(aiohttp_server):
    fake = FakeLinkedIn()
    server = await aiohttp_server(fake.app())
    site = await aiohttp_server(site_app())
    fake.http = guarded(MapResolver({"api.linkedin.com": ("127.0.0.1", server.port),
                                     "www.linkedin.com": ("127.0.0.1", server.port),
                                     "stadt.example": ("127.0.0.1", site.port)}), total_timeout=QUICK_TIMEOUT)
    yield fake
    await fake.http.close()


def linkedin(fake, token="li-token", account=None, clock=None, **extra):
    config = platform("linkedin", API, organization_id="2414183", access_token=token, linkedin_version="202609",
                      oauth_base="http://www.linkedin.com", **extra)
    return LinkedInConnector(config, fake.http, account or state(), clock or Clock())


def test_reserved_characters_are_escaped_but_hashtags_stay_hashtags():
    text = "Sitzung (öffentlich) am 3. [Dez] @Rathaus: a_b *c* ~d~ <e> {f} | g \\ h #Stadtrat_2026"
    escaped = escape_little(text)
    assert escaped == ("Sitzung \\(öffentlich\\) am 3. \\[Dez\\] \\@Rathaus: a\\_b \\*c\\* \\~d\\~ \\<e\\> \\{f\\} "
                       "\\| g \\\\ h #Stadtrat\\_2026")
    assert unescape_little(escaped) == text


async def test_a_post_carries_the_headers_the_organisation_and_returns_the_restli_id(fake):
    connector = linkedin(fake)
    rendered = connector.render(view("Neue Kita (Nord) eröffnet #Familie"))
    result = await connector.publish(rendered, "h")
    assert result.outcome is Outcome.SENT and result.remote.id.startswith("urn:li:share:")
    post = fake.posts[result.remote.id]
    assert post["author"] == "urn:li:organization:2414183" and post["commentary"] == rendered.text
    assert post["commentary"] == "Neue Kita \\(Nord\\) eröffnet #Familie" and fake.versions == {"202609"}
    assert post["visibility"] == "PUBLIC" and post["lifecycleState"] == "PUBLISHED"


async def test_images_are_uploaded_through_the_images_api_with_alt_text(fake, tmp_path):
    connector = linkedin(fake)
    images = [image_view(tmp_path, "a.png", alt="Kita"), image_view(tmp_path, "b.png", alt="Garten")]
    one = await connector.publish(connector.render(view("Eins", images=images[:1])), "h1")
    assert fake.posts[one.remote.id]["content"]["media"]["altText"] == "Kita"
    two = await connector.publish(connector.render(view("Zwei", images=images)), "h2")
    multi = fake.posts[two.remote.id]["content"]["multiImage"]["images"]
    assert [i["altText"] for i in multi] == ["Kita", "Garten"] and all(fake.images[i["id"]] > 0 for i in multi)


async def test_a_link_becomes_an_article_card_built_by_stadtbote(fake):
    connector = linkedin(fake)
    result = await connector.publish(connector.render(view("Info: http://stadt.example/baustelle")), "h")
    article = fake.posts[result.remote.id]["content"]["article"]
    assert article["source"] == "http://stadt.example/baustelle" and "Umleitung" in article["title"]
    assert article["thumbnail"].startswith("urn:li:image:")


async def test_edit_is_a_partial_update_and_delete_is_idempotent(fake):
    connector = linkedin(fake)
    sent = await connector.publish(connector.render(view("alt")), "h")
    assert (await connector.edit(sent.remote, connector.render(view("neu (korrigiert)")))).outcome is Outcome.SENT
    assert fake.posts[sent.remote.id]["commentary"] == "neu \\(korrigiert\\)"
    assert (await connector.delete(sent.remote)).outcome is Outcome.SENT and not fake.posts
    assert (await connector.delete(sent.remote)).outcome is Outcome.SENT


async def test_a_timeout_after_the_write_is_reconciled_by_the_author_listing(fake):
    clock = Clock()
    connector = linkedin(fake, clock=clock)
    rendered = connector.render(view("Wahl am Sonntag (Ergebnisse ab 18 Uhr)"))
    fake.mode = "timeout_after_write"
    assert (await connector.publish(rendered, "h")).outcome is Outcome.UNKNOWN
    found = await connector.reconcile("h", rendered, clock())
    assert found.outcome is Outcome.SENT and found.remote.id in fake.posts and len(fake.posts) == 1
    other = connector.render(view("Nie gesendet"))
    clock.advance(minutes=5)
    assert (await connector.reconcile("h2", other, clock() - timedelta(minutes=5))).outcome is Outcome.NOT_FOUND


async def test_errors_are_classified(fake):
    connector = linkedin(fake)
    fake.mode = "429"
    assert (await connector.publish(connector.render(view("x")), "h")).outcome is Outcome.RATE_LIMITED
    fake.mode = "422"
    rejected = await connector.publish(connector.render(view("x")), "h")
    assert rejected.outcome is Outcome.REJECTED and "3000" in rejected.detail
    fake.mode = "504_after_write"
    assert (await connector.publish(connector.render(view("x")), "h")).outcome is Outcome.UNKNOWN
    expired = await linkedin(fake, token="expired").publish(connector.render(view("x")), "h")
    assert expired.outcome is Outcome.AUTH_FAILED and expired.reason is Reason.INVALID_CREDENTIALS


async def test_comments_keep_the_actor_urn_and_text_only(fake):
    urn = "urn:li:share:1"
    fake.comments[urn] = [li_comment(1, urn, "Super \\(wirklich\\)"), li_comment(2, urn, "#nobot", person="x")]
    batch = await linkedin(fake).fetch_replies(Remote(urn))
    assert [(r.author_id, r.text) for r in batch.replies] == [("urn:li:person:abc", "Super (wirklich)")]
    assert batch.complete and batch.skipped == 1


async def test_the_expiry_is_shown_and_refreshed_a_week_ahead_where_the_app_has_refresh_tokens(fake):
    plain = linkedin(fake, token_expires_at="2027-01-10")
    await plain.check_credentials()
    assert plain.account.token_expires_at.date().isoformat() == "2027-01-10" and fake.refreshed == 0
    soon = linkedin(fake, token_expires_at="2026-11-27", refresh_token="li-refresh", client_id="app",
                    client_secret="s3cret")
    assert (await soon.check_credentials()).outcome is Outcome.SENT
    assert fake.refreshed == 1 and (soon.account.token_expires_at - soon.clock()).days == 60


async def test_the_social_actions_summary_gives_likes_and_comments(fake):
    connector = linkedin(fake)
    sent = await connector.publish(connector.render(view("Sprechstunde im Rathaus")), "h")
    fake.likes[sent.remote.id] = 6
    metrics = await connector.fetch_metrics(sent.remote)
    assert metrics.result.outcome is Outcome.SENT and metrics.counts == {"likes": 6, "replies": 0}
    gone = await connector.fetch_metrics(Remote("urn:li:share:1"))
    assert gone.result.outcome is Outcome.NOT_FOUND and gone.counts == {}
