"""Inbound parsing of recorded-style payloads from each fediverse software, plus property tests."""

from __future__ import annotations

import json

import pytest
from ap_helpers import PAYLOADS
from hypothesis import given, settings
from hypothesis import strategies as st

from activitypub.inbound import (
    AnnounceIn,
    CreateNoteIn,
    DeleteIn,
    FlagIn,
    FollowIn,
    LikeIn,
    QuoteRequestIn,
    UndoIn,
    Unsupported,
    UnsupportedReason,
    UpdateIn,
    parse_activity,
)
from activitypub.normalize import web_url
from activitypub.jsonload import JsonLoaded, JsonReason, JsonRejected, load_json
from activitypub.uris import PUBLIC

CITY = "https://city.example/users/stadt"
NOTE = CITY + "/statuses/1001"

EXPECTED = {
    "mastodon_follow_1": FollowIn,
    "mastodon_undo_follow_1": UndoIn,
    "mastodon_reply_1": CreateNoteIn,
    "mastodon_like_1": LikeIn,
    "mastodon_undo_like_1": UndoIn,
    "mastodon_announce_1": AnnounceIn,
    "mastodon_undo_announce_1": UndoIn,
    "mastodon_update_note_1": UpdateIn,
    "mastodon_update_actor_1": UpdateIn,
    "mastodon_delete_note_1": DeleteIn,
    "mastodon_delete_actor_1": DeleteIn,
    "mastodon_flag_1": FlagIn,
    "mastodon_quoterequest_1": QuoteRequestIn,
    "mastodon_spoofed_create_1": Unsupported,
    "mastodon_move_1": Unsupported,
    "misskey_reply_1": CreateNoteIn,
    "misskey_like_1": LikeIn,
    "misskey_undo_like_1": UndoIn,
    "pleroma_reply_1": CreateNoteIn,
    "akkoma_emojireact_1": LikeIn,
    "gotosocial_reply_1": CreateNoteIn,
    "gotosocial_follow_1": FollowIn,
    "gotosocial_announce_1": AnnounceIn,
    "lemmy_announce_create_1": AnnounceIn,
    "lemmy_announce_like_1": AnnounceIn,
    "pixelfed_reply_1": CreateNoteIn,
    "threads_reply_1": CreateNoteIn,
}


def load(name: str):
    loaded = load_json((PAYLOADS / f"{name}.json").read_bytes())
    assert isinstance(loaded, JsonLoaded)
    return loaded.value


def test_every_fixture_has_an_expectation():
    assert {p.stem for p in PAYLOADS.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name, expected", sorted(EXPECTED.items()))
def test_fixture_parses_to_its_type(name, expected):
    assert type(parse_activity(load(name))) is expected


@pytest.mark.parametrize("name", [n for n, t in EXPECTED.items() if t is CreateNoteIn])
def test_every_reply_is_public_or_unlisted_addresses_us_and_replies_to_our_note(name):
    result = parse_activity(load(name))
    note = result.note
    assert note.in_reply_to == NOTE
    assert note.mentions_actor(CITY)
    assert note.visibility in ("public", "unlisted")
    assert note.content_html
    assert note.attributed_to == result.actor


def test_mastodon_reply_details():
    note = parse_activity(load("mastodon_reply_1")).note
    assert note.language == "de" and note.summary is None and note.sensitive is False
    assert note.hashtags == ("freibad",)
    assert note.attachments[0].alt_text == "Ein leeres Schwimmbecken"
    assert note.url == "https://mastodon.example/@alice/113"
    assert note.published is not None and note.published.year == 2025


def test_gotosocial_string_addressing_and_single_tag_object():
    note = parse_activity(load("gotosocial_reply_1")).note
    assert note.to == (PUBLIC,) and note.visibility == "public"
    assert note.mentions == (CITY,)
    assert note.summary is None  # GoToSocial's "" means no content warning


def test_misskey_as_public_and_single_tag():
    note = parse_activity(load("misskey_reply_1")).note
    assert note.to == (PUBLIC,)
    assert note.mentions == (CITY,)


def test_pleroma_unlisted_link_array_attachment_and_null_sensitive():
    note = parse_activity(load("pleroma_reply_1")).note
    assert note.visibility == "unlisted"
    assert note.sensitive is False
    assert note.attachments[0].url == "https://pleroma.example/media/plan.png"
    assert note.language is None  # "und" is not a language


def test_pixelfed_image_alt_text():
    note = parse_activity(load("pixelfed_reply_1")).note
    assert note.attachments[0].alt_text == "Marktstände im Regen"
    assert note.attachments[0].kind == "Image"


def test_lemmy_group_announce_needs_inner_object_fetched():
    result = parse_activity(load("lemmy_announce_create_1"))
    assert result.needs_fetch and result.wrapped_type == "Create"
    assert result.object_id == "https://lemmy.example/comment/321"
    like = parse_activity(load("lemmy_announce_like_1"))
    assert like.needs_fetch and like.wrapped_type == "Like"


def test_plain_boost_of_our_note_needs_no_fetch():
    result = parse_activity(load("mastodon_announce_1"))
    assert result.object_id == NOTE and not result.needs_fetch


def test_follow_and_undo_follow():
    follow = parse_activity(load("mastodon_follow_1"))
    assert follow.object == CITY
    assert follow.embedded()["id"] == load("mastodon_follow_1")["id"]
    undo = parse_activity(load("mastodon_undo_follow_1"))
    assert undo.undone_type == "Follow" and undo.undone_id == follow.activity_id and undo.object == CITY


def test_deletes_distinguish_actor_from_object():
    assert parse_activity(load("mastodon_delete_actor_1")).is_actor
    deleted = parse_activity(load("mastodon_delete_note_1"))
    assert not deleted.is_actor and deleted.object_id.endswith("/statuses/113")


def test_actor_update_carries_opt_out_signals():
    update = parse_activity(load("mastodon_update_actor_1"))
    assert update.profile.indexable is False and update.profile.discoverable is True
    assert update.profile.opt_out_tags == frozenset({"nobot"})
    assert update.profile.shared_inbox == "https://mastodon.example/inbox"


def test_reactions_are_likes_with_emoji():
    assert parse_activity(load("misskey_like_1")).reaction == "👍"
    assert parse_activity(load("akkoma_emojireact_1")).reaction == "🎉"


def test_quote_request_and_flag():
    quote = parse_activity(load("mastodon_quoterequest_1"))
    assert quote.object_id == NOTE and quote.instrument_id.endswith("/statuses/120")
    flag = parse_activity(load("mastodon_flag_1"))
    assert flag.object_ids == (CITY, NOTE) and flag.content == "Spam"


def test_spoofed_note_is_an_origin_mismatch():
    result = parse_activity(load("mastodon_spoofed_create_1"))
    assert result.reason is UnsupportedReason.ORIGIN_MISMATCH


def test_unknown_type_is_unsupported_not_an_error():
    result = parse_activity(load("mastodon_move_1"))
    assert result.reason is UnsupportedReason.UNKNOWN_TYPE


@pytest.mark.parametrize(
    "document",
    [
        {"type": "Delete", "id": "https://a.example/1", "actor": "https://a.example/u", "object": "https://b.example/n"},
        {"type": "Undo", "id": "https://a.example/1", "actor": "https://a.example/u",
         "object": {"type": "Follow", "id": "https://a.example/f", "actor": "https://a.example/other"}},
        {"type": "Update", "id": "https://a.example/1", "actor": "https://a.example/u",
         "object": {"type": "Person", "id": "https://a.example/other"}},
        {"type": "QuoteRequest", "id": "https://a.example/1", "actor": "https://a.example/u", "object": NOTE,
         "instrument": "https://b.example/n"},
    ],
)
def test_foreign_objects_are_refused(document):
    result = parse_activity(document)
    assert isinstance(result, Unsupported) and result.reason is UnsupportedReason.ORIGIN_MISMATCH


# ---- bounded JSON loading

def test_deep_json_is_refused_before_parsing():
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    result = load_json(deep, max_bytes=10_000_000)
    assert isinstance(result, JsonRejected) and result.reason is JsonReason.TOO_DEEP


def test_brackets_inside_strings_do_not_count():
    result = load_json(json.dumps({"content": "[[[[{{{{" * 100}).encode(), max_depth=3)
    assert isinstance(result, JsonLoaded)


@pytest.mark.parametrize("body, reason", [(b"x" * 20, JsonReason.TOO_LARGE), (b"{oops", JsonReason.INVALID_JSON),
                                          (b"\xff\xfe", JsonReason.INVALID_JSON), (b"[]", JsonReason.NOT_AN_OBJECT)])
def test_json_rejections(body, reason):
    result = load_json(body, max_bytes=10)
    assert isinstance(result, JsonRejected) and result.reason is reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
keys = st.sampled_from(["id", "type", "actor", "object", "to", "cc", "tag", "attachment", "attributedTo", "url",
                        "content", "contentMap", "inReplyTo", "instrument", "summary", "published", "language"])
types = st.sampled_from(["Create", "Update", "Delete", "Follow", "Undo", "Like", "Announce", "Flag", "Note",
                         "QuoteRequest", "EmojiReact", "Person", "Tombstone", "Page"])
activity_like = st.recursive(
    st.fixed_dictionaries({"type": types}, optional={"id": st.just("https://a.example/1"),
                                                      "actor": st.just("https://a.example/u")}),
    lambda children: st.dictionaries(keys, children | json_values, max_size=6).map(
        lambda d: d | {"type": d.get("type") if isinstance(d.get("type"), str) else "Create"}),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, activity_like))
def test_parse_activity_never_raises(document):
    parse_activity(document)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_load_json_never_raises(body):
    assert isinstance(load_json(body, max_depth=5), (JsonLoaded, JsonRejected))


@pytest.mark.parametrize("value, expected", [
    ("https://mastodon.test/@a/1", "https://mastodon.test/@a/1"), ("HTTP://m.test/x", "HTTP://m.test/x"),
    ("javascript:alert(1)", None), ("JavaScript:alert(1)", None), (" https://m.test/", None),
    ("java\nscript:x", None), ("data:text/html,x", None), ("//m.test/x", None), ("/relative", None),
    ("https:", None), ("https://[::1", None), (None, None), (42, None), ({"href": "https://m.test"}, None)])
def test_only_absolute_http_and_https_addresses_are_web_urls(value, expected):
    assert web_url(value) == expected
