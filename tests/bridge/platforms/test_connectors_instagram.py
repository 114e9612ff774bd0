"""The Instagram connector against the Graph API fake: containers, carousels, the container id as the
reconciliation handle, text-only posts skipped with their reason, and the 60-day token refresh."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bridge.platforms.connectors.base import ImageView, Outcome, Reason, Remote
from bridge.platforms.connectors.instagram import InstagramConnector
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, image_view, platform, state, view
from fakes.meta import FakeInstagram, ig_comment

API = "http://graph.instagram.com/v25.0"
USER = "17841400000000001"


@pytest.fixture
async def fake(aiohttp_server):
    fake = FakeInstagram()
    server = await aiohttp_server(fake.app())
    fake.http = guarded(MapResolver({"graph.instagram.com": ("127.0.0.1", server.port)}), total_timeout=QUICK_TIMEOUT)
    yield fake
    await fake.http.close()


def instagram(fake, token="ig-token", account=None, clock=None):
    connector = InstagramConnector(platform("instagram", API, ig_user_id=USER, access_token=token), fake.http,
                                   account or state(), clock or Clock())
    connector.status_waits = ()
    return connector


def jpeg(tmp_path, name="foto.jpg", size=(1080, 1080), alt="Marktplatz") -> ImageView:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 40)).save(out, "JPEG")
    (tmp_path / name).write_bytes(out.getvalue())
    return ImageView(str(tmp_path / name), "image/jpeg", alt, *size)


def test_a_text_only_post_is_skipped_with_its_reason():
    rendered = InstagramConnector(platform("instagram", API), None, state(), Clock()).render(view("Nur Text"))
    assert rendered.blocked is Reason.IMAGE_REQUIRED and not rendered.fits
    assert "Instagram requires an image" in rendered.notes[0]


def test_images_instagram_cannot_take_are_left_out_or_block_the_post(tmp_path):
    connector = InstagramConnector(platform("instagram", API), None, state(), Clock())
    png = connector.render(view("x", images=[image_view(tmp_path)]))
    assert png.blocked is Reason.IMAGE_UNUSABLE
    mixed = connector.render(view("x", images=[image_view(tmp_path), jpeg(tmp_path)]))
    assert mixed.blocked is None and len(mixed.images) == 1 and "left out" in mixed.notes[0]
    tall = connector.render(view("x", images=[jpeg(tmp_path, "tall.jpg", (500, 1500))]))
    assert tall.blocked is Reason.IMAGE_UNUSABLE


async def test_one_image_is_a_container_with_alt_text_and_the_public_image_url(fake, tmp_path):
    connector = instagram(fake)
    rendered = connector.render(view("Wochenmarkt #Markt", images=[jpeg(tmp_path)]))
    result = await connector.publish(rendered, "h1")
    assert result.outcome is Outcome.SENT and result.remote.url.startswith("https://www.instagram.com/p/")
    container = fake.containers[result.remote.extra["container"]]
    assert container["image_url"] == "https://stadt.example/media/foto.jpg"
    assert container["alt_text"] == "Marktplatz" and container["caption"] == "Wochenmarkt #Markt"


async def test_several_images_are_a_carousel(fake, tmp_path):
    connector = instagram(fake)
    images = [jpeg(tmp_path, "a.jpg", alt="A"), jpeg(tmp_path, "b.jpg", alt="B")]
    result = await connector.publish(connector.render(view("Zwei", images=images)), "h2")
    parent = fake.containers[result.remote.extra["container"]]
    assert parent["media_type"] == "CAROUSEL" and len(parent["children"].split(",")) == 2
    assert [fake.containers[c]["alt_text"] for c in parent["children"].split(",")] == ["A", "B"]


async def test_a_timeout_on_publishing_is_reconciled_with_the_container_id(fake, tmp_path):
    connector = instagram(fake)
    rendered = connector.render(view("Stadtfest", images=[jpeg(tmp_path)]))
    fake.mode = "timeout_after_write"
    assert (await connector.publish(rendered, "h3")).outcome is Outcome.UNKNOWN
    found = await connector.reconcile("h3", rendered, connector.clock())
    assert found.outcome is Outcome.SENT and found.remote.id in fake.media and len(fake.media) == 1
    again = await connector.publish(rendered, "h3")  # even a repeat finds the published container
    assert again.outcome is Outcome.SENT and len(fake.media) == 1 and fake.calls.count(f"POST {USER}/media") == 1


async def test_a_container_still_processing_is_published_on_the_next_attempt(fake, tmp_path):
    connector = instagram(fake)
    rendered = connector.render(view("Langsam", images=[jpeg(tmp_path)]))
    fake.first_status = "IN_PROGRESS"
    waiting = await connector.publish(rendered, "h4")
    assert waiting.outcome is Outcome.UNAVAILABLE and waiting.retry_at is not None and not fake.media
    assert (await connector.reconcile("h4", rendered, None)).outcome is Outcome.NOT_FOUND
    fake.finish()
    assert (await connector.publish(rendered, "h4")).outcome is Outcome.SENT
    assert len(fake.containers) == 1 and len(fake.media) == 1  # the same container, published once


async def test_edit_is_unsupported_and_delete_is_manual_with_reasons(fake):
    connector = instagram(fake)
    edit = await connector.edit(Remote("1"), connector.render(view("x")))
    assert edit.outcome is Outcome.UNSUPPORTED and "Instagram app" in edit.description
    delete = await connector.delete(Remote("1"))
    assert delete.outcome is Outcome.MANUAL and "cannot delete" in delete.detail


async def test_the_token_is_refreshed_and_its_expiry_shown(fake):
    connector = instagram(fake)
    assert (await connector.check_credentials()).outcome is Outcome.SENT
    assert fake.refreshed == 1 and connector.account.session["access_token"] == "refreshed-1"
    assert (connector.account.token_expires_at - connector.clock()).days == 60
    again = instagram(fake, account=connector.account)
    await again.check_credentials()
    assert fake.refreshed == 1  # not more than once a day
    again.clock.advance(days=2)
    await again.check_credentials()
    assert fake.refreshed == 2


async def test_comments_and_their_replies_minus_hidden_and_opted_out(fake):
    fake.comments["m1"] = [ig_comment(1, "Schön!", replies=[ig_comment(2, "Finde ich auch", user="502")]),
                           ig_comment(3, "weg", hidden=True), ig_comment(4, "#nobridge")]
    batch = await instagram(fake).fetch_replies(Remote("m1"))
    assert [r.author_id for r in batch.replies] == ["instagram:501", "instagram:502"]
    assert batch.skipped == 2 and batch.complete


async def test_an_expired_token_is_auth_failed(fake, tmp_path):
    connector = instagram(fake, token="old")
    result = await connector.publish(connector.render(view("x", images=[jpeg(tmp_path)])), "h")
    assert result.outcome is Outcome.AUTH_FAILED and result.reason is Reason.INVALID_CREDENTIALS


async def test_the_medias_like_and_comment_counts_are_read(fake, tmp_path):
    connector = instagram(fake)
    sent = await connector.publish(connector.render(view("Wochenmarkt", images=[jpeg(tmp_path)])), "h1")
    fake.metrics[sent.remote.id] = {"like_count": 23, "comments_count": 5}
    metrics = await connector.fetch_metrics(sent.remote)
    assert metrics.result.outcome is Outcome.SENT and metrics.counts == {"likes": 23, "replies": 5}
    fake.tokens.clear()
    expired = await connector.fetch_metrics(sent.remote)
    assert expired.result.outcome is Outcome.AUTH_FAILED and expired.counts == {}
