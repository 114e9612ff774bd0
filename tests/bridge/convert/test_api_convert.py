"""The conversion layer's Mastodon entities, from plain objects: the keys clients rely on."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from activitypub.uris import Uris
from bridge.convert.mastodon import (
    AccountStats,
    InstanceFacts,
    actor_to_account,
    instance_v1,
    instance_v2,
    mastodon_datetime,
    media_to_attachment,
    post_to_scheduled_status,
    post_to_status,
)
from bridge.store.models import Actor, Media, Post, PostState

DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
STATUS_KEYS = {"id", "created_at", "edited_at", "in_reply_to_id", "in_reply_to_account_id", "sensitive",
               "spoiler_text", "visibility", "language", "uri", "url", "replies_count", "reblogs_count",
               "favourites_count", "favourited", "reblogged", "muted", "bookmarked", "pinned", "content",
               "reblog", "application", "account", "media_attachments", "mentions", "tags", "emojis", "card",
               "poll"}
ACCOUNT_KEYS = {"id", "username", "acct", "display_name", "locked", "bot", "discoverable", "group", "created_at",
                "note", "url", "avatar", "avatar_static", "header", "header_static", "followers_count",
                "following_count", "statuses_count", "last_status_at", "emojis", "fields"}
MEDIA_KEYS = {"id", "type", "url", "preview_url", "remote_url", "meta", "description", "blurhash"}
URIS = Uris.for_base("http://stadt.test")
WHEN = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)


def make_post(text: str = "Hallo @feuerwehr und @anna@social.example #Sommerfest <b>", state=PostState.PUBLISHED,
              spoiler_text: str = "", media=()) -> Post:
    actor = Actor(id=1, name="stadt", created_at=WHEN)
    return Post(id=112233445566778899, actor=actor, actor_id=1, state=state, text=text, spoiler_text=spoiler_text,
                language="de", pinned=False, created_at=WHEN, published_at=WHEN, edited_at=None,
                scheduled_at=None, media=list(media))


def make_media() -> Media:
    return Media(id=42, filename="2a.png", mime_type="image/png", width=640, height=480, size=1000,
                 alt="Ein Bild", decorative=False)


def test_mastodon_datetimes_are_utc_with_milliseconds_and_z():
    assert mastodon_datetime(WHEN) == "2024-05-06T07:08:09.123Z"
    assert mastodon_datetime(None) is None


def test_a_status_has_every_key_mastodon_clients_rely_on(config):
    status = post_to_status(make_post(), config, URIS, AccountStats(3, WHEN))
    assert STATUS_KEYS <= set(status)
    assert isinstance(status["id"], str) and status["id"] == "112233445566778899"
    assert DATETIME.match(status["created_at"]) and status["edited_at"] is None
    assert status["uri"] == "http://stadt.test/users/stadt/statuses/112233445566778899"
    assert status["url"] == "http://stadt.test/@stadt/112233445566778899"
    assert status["visibility"] == "public" and status["sensitive"] is False
    assert status["emojis"] == [] and status["media_attachments"] == []
    assert ACCOUNT_KEYS <= set(status["account"])
    assert status["account"]["statuses_count"] == 3 and status["account"]["last_status_at"] == "2024-05-06"


def test_content_is_mastodon_html_with_tags_and_mentions_linked(config):
    status = post_to_status(make_post(), config, URIS)
    assert "&lt;b&gt;" in status["content"] and "<b>" not in status["content"]
    assert 'href="http://stadt.test/tags/Sommerfest"' in status["content"]
    assert 'href="http://stadt.test/@feuerwehr"' in status["content"]
    assert 'href="https://social.example/@anna"' in status["content"]
    assert status["tags"] == [{"name": "sommerfest", "url": "http://stadt.test/tags/sommerfest"}]
    assert status["mentions"] == [
        {"id": "feuerwehr", "username": "feuerwehr", "url": "http://stadt.test/@feuerwehr", "acct": "feuerwehr"},
        {"id": "anna@social.example", "username": "anna", "url": "https://social.example/@anna",
         "acct": "anna@social.example"},
    ]


def test_a_content_warning_makes_a_status_sensitive(config):
    status = post_to_status(make_post(spoiler_text="Unfall"), config, URIS)
    assert status["sensitive"] is True and status["spoiler_text"] == "Unfall"


def test_the_source_form_carries_text_instead_of_content(config):
    status = post_to_status(make_post("a #b"), config, URIS, source=True)
    assert status["text"] == "a #b" and "content" not in status


@pytest.mark.parametrize("state", [PostState.AWAITING_APPROVAL, PostState.SCHEDULED, PostState.DRAFT])
def test_a_post_that_is_not_public_yet_has_no_url_and_says_why(config, state):
    status = post_to_status(make_post(state=state), config, URIS)
    assert status["url"] is None and status["stadtbote"] == {"state": state}


def test_a_media_attachment_has_the_keys_and_sizes_clients_use():
    media = media_to_attachment(make_media(), URIS)
    assert MEDIA_KEYS <= set(media)
    assert media["id"] == "42" and media["type"] == "image"
    assert media["url"] == "http://stadt.test/media/2a.png" == media["preview_url"]
    assert media["meta"]["original"] == {"width": 640, "height": 480, "size": "640x480", "aspect": 640 / 480}


def test_a_scheduled_status_names_its_time_and_parameters():
    post = make_post("Später", state=PostState.SCHEDULED, media=[make_media()])
    post.scheduled_at = WHEN
    scheduled = post_to_scheduled_status(post, URIS, "key-1")
    assert scheduled["id"] == "112233445566778899" and scheduled["scheduled_at"] == "2024-05-06T07:08:09.123Z"
    assert scheduled["params"]["text"] == "Später" and scheduled["params"]["media_ids"] == ["42"]
    assert scheduled["params"]["idempotency"] == "key-1" and scheduled["params"]["scheduled_at"] is None
    assert [m["id"] for m in scheduled["media_attachments"]] == ["42"]


def test_an_account_is_created_at_midnight_and_a_service_is_a_bot(config):
    actor_config = config.actor("stadt")
    account = actor_to_account(Actor(id=7, name="stadt", created_at=WHEN), actor_config, URIS, with_source=True)
    assert account["id"] == "7" and account["created_at"] == "2024-05-06T00:00:00.000Z"
    assert account["bot"] is (actor_config.type in ("Service", "Application"))
    assert account["source"]["privacy"] == "public"


def test_the_instance_entities_carry_version_limits_and_closed_registrations(config):
    facts = InstanceFacts("0.1.0", accounts=2, statuses=5)
    v1, v2 = instance_v1(config, URIS, facts), instance_v2(config, URIS, facts)
    assert v1["version"] == v2["version"] == "4.3.0 (compatible; Stadtbote 0.1.0)"
    assert v1["configuration"]["statuses"] == v2["configuration"]["statuses"]
    assert v1["registrations"] is False and v2["registrations"]["enabled"] is False
    assert v2["configuration"]["media_attachments"]["description_limit"] == 1500
    assert v1["stats"] == {"user_count": 2, "status_count": 5, "domain_count": 0}
