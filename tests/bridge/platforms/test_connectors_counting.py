"""Counting in each platform's unit, shortening at word boundaries, facets and Telegram's HTML."""

from __future__ import annotations

import pytest

from bridge.platforms.connectors.bluesky import BlueskyConnector, bluesky_length
from bridge.platforms.connectors.bluesky_records import facets, tid
from bridge.platforms.connectors.counting import characters, graphemes, utf16_units, utf8_bytes
from bridge.platforms.connectors.mastodon import MastodonConnector
from bridge.platforms.connectors.render import fit_text
from bridge.platforms.connectors.telegram import TelegramConnector
from fakes.platforms import Clock, platform, state, view

FAMILY = "👨‍👩‍👧‍👦"  # four people joined by ZWJ: one grapheme, 7 code points, 11 UTF-16 units, 25 bytes
THUMBS = "👍🏽"  # with a skin tone: one grapheme, 2 code points


@pytest.mark.parametrize("text, g, cp, u16, b", [
    ("Straße über Brücke", 18, 18, 18, 21),
    ("e\u0301", 1, 2, 2, 3),  # e + combining acute
    (FAMILY, 1, 7, 11, 25),
    (THUMBS, 1, 2, 4, 8),
    ("🇩🇪", 1, 2, 4, 8),
    ("東京都庁", 4, 4, 4, 12),
])
def test_hard_cases_are_counted_in_each_unit(text, g, cp, u16, b):
    assert graphemes(text) == g
    assert len(text) == cp
    assert utf16_units(text) == u16
    assert utf8_bytes(text) == b


def test_mastodon_counts_every_url_as_23_and_umlauts_as_one():
    text = "Grüße: https://www.stadt.example/a/very/long/path/that/goes/on/and/on?x=1"
    assert characters(text) == len("Grüße: ") + 23
    assert characters(text, url_weight=None) == len(text)


def test_bluesky_length_binds_on_graphemes_for_text_and_on_bytes_for_emoji_sequences():
    assert bluesky_length("a" * 300) == 300
    assert bluesky_length("東" * 300) == 300  # 900 bytes: graphemes bind
    assert bluesky_length(FAMILY * 120) == 300  # 120 graphemes but 3000 bytes: exactly at the byte limit
    assert bluesky_length(FAMILY * 121) > 300


def test_over_long_text_is_shortened_at_a_word_boundary_with_a_link_to_the_permalink():
    words = " ".join(["Bürgerversammlung"] * 40) + " #Rathaus"
    text, shortened = fit_text(words, "https://stadt.example/@stadt/1", graphemes, 300)
    assert shortened and graphemes(text) <= 300
    body, tail = text.split(" …\n")
    assert tail == "https://stadt.example/@stadt/1"
    assert set(body.split(" ")) == {"Bürgerversammlung"}  # whole words only, never a cut word


def test_a_fitting_text_is_left_alone():
    assert fit_text("Kurz. #Info", "https://x/1", graphemes, 300) == ("Kurz. #Info", False)


def test_emoji_sequences_are_never_split_when_shortening():
    text, _ = fit_text((FAMILY + " ") * 200, "https://s.example/1", graphemes, 300)
    assert text.count(FAMILY) == graphemes(text.split(" …")[0].replace(" ", ""))


def test_bluesky_facets_use_utf8_byte_offsets():
    text = "Grüße 👋🏽 #Stadtfest https://stadt.example/fest @presse.bsky.social"
    found, mentions = facets(text)
    raw = text.encode()
    tag = next(f for f in found if f["features"][0]["$type"].endswith("#tag"))
    link = next(f for f in found if f["features"][0]["$type"].endswith("#link"))
    assert raw[tag["index"]["byteStart"]:tag["index"]["byteEnd"]] == "#Stadtfest".encode()
    assert tag["features"][0]["tag"] == "Stadtfest"
    assert raw[link["index"]["byteStart"]:link["index"]["byteEnd"]] == b"https://stadt.example/fest"
    start, end, handle = mentions[0]
    assert raw[start:end] == b"@presse.bsky.social" and handle == "presse.bsky.social"


def test_record_keys_are_valid_tids_and_deterministic():
    first, again, other = tid("1795305355000-aa"), tid("1795305355000-aa"), tid("1795305355000-bb")
    assert first == again != other
    assert len(first) == 13 and first[0] in "234567abcdefghij"


def test_bluesky_render_counts_graphemes_and_says_it_cannot_edit():
    connector = BlueskyConnector(platform("bluesky", "https://bsky.social"), None, state(), Clock())
    rendered = connector.render(view("Hallo " + FAMILY + " https://stadt.example/x", spoiler="Baulärm"))
    assert rendered.unit == "graphemes" and rendered.limit == 300
    assert rendered.text.startswith("⚠️ Baulärm\n\n")
    assert rendered.link == "https://stadt.example/x"
    assert any("cannot edit" in n for n in rendered.notes)


def test_mastodon_render_uses_the_instance_limits_when_known():
    account = state()
    account.limits = {"max_characters": 100, "characters_reserved_per_url": 23}
    connector = MastodonConnector(platform("mastodon", "https://mastodon.example"), None, account, Clock())
    rendered = connector.render(view("Wort " * 40))
    assert rendered.limit == 100 and rendered.length <= 100 and rendered.shortened


def test_telegram_escapes_html_and_links_and_has_no_alt_text(tmp_path):
    from fakes.platforms import image_view
    connector = TelegramConnector(platform("telegram", "https://api.telegram.org"), None, state(), Clock())
    rendered = connector.render(view("A < B & C > D https://stadt.example/?a=1&b=2", images=[image_view(tmp_path)]))
    assert rendered.text.startswith("A &lt; B &amp; C &gt; D ")
    assert '<a href="https://stadt.example/?a=1&amp;b=2">' in rendered.text
    assert rendered.limit == 1024
    assert any("no alt text" in n for n in rendered.notes)


def test_telegram_counts_utf16_units_for_captions():
    connector = TelegramConnector(platform("telegram", "https://api.telegram.org"), None, state(), Clock())
    rendered = connector.render(view(THUMBS * 10))
    assert rendered.length == 40 and rendered.limit == 4096
