"""Feed import against recorded-style fixture feeds: parsing, GUID fallbacks, selection, post text."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from feed_samples import ENTRIES, FIXTURES, meta
from feeds.items import GuidSource, ImportedItem
from feeds.importer import ImportReason, SelectReason, TextFit, parse_feed, select_new, to_post_text
from feeds.model import FeedKind
from feeds.render import render

PRESS = "https://www.stadt.example/presse/feed.xml"


def _load(name: str, content_type: str | None = "application/rss+xml", base: str = PRESS):
    return parse_feed((FIXTURES / name).read_bytes(), content_type, base)


def test_german_press_releases_with_umlauts():
    result = _load("presse_rss_de.xml")
    assert result.ok and result.reason is ImportReason.OK and not result.broken
    assert result.kind is FeedKind.RSS and result.warnings == ()
    assert result.feed_title == "Pressemitteilungen der Stadt Mönchengladbach"
    first, second, third = result.items
    assert first.guid == "pm-2026-0142" and first.guid_source is GuidSource.GUID  # not resolved against the URL
    assert first.title == "Straßensperrung in der Königsallee wegen Bauarbeiten"
    assert first.link == "https://www.stadt.example/presse/2026/strassensperrung-koenigsallee"
    assert first.published == datetime(2026, 3, 3, 8, 15, tzinfo=timezone.utc)
    assert "Bahnhofstraße" in first.summary_html
    assert [(e.url, e.mime_type, e.length) for e in first.enclosures] == [
        ("https://www.stadt.example/presse/bilder/umleitung.jpg", "image/jpeg", 48213)
    ]
    assert second.title == "Bürgerbüro: Öffnungszeiten über Ostern & Feiertage"
    assert 'href="https://www.stadt.example/termine"' in second.summary_html  # relative link resolved
    assert [(e.url, e.length) for e in third.enclosures] == [
        ("https://www.stadt.example/presse/bilder/gratulation.jpg", 102400)
    ]


def test_latin1_encoded_feed_is_decoded():
    result = _load("presse_latin1.xml", "text/xml")
    assert result.ok
    assert result.feed_title == "Kreis Düren"
    assert result.items[0].title == "Grünschnittannahme öffnet"


def test_atom_feed_with_html_title_and_relative_image():
    result = _load("atom_news.xml", "application/atom+xml", "https://feuerwehr.example/news.atom")
    assert result.ok and result.kind is FeedKind.ATOM
    fire, oil = result.items
    assert fire.guid == "tag:feuerwehr.example,2026:einsatz-17"
    assert fire.title == "Brand in Lagerhalle gelöscht"  # plain text, tags dropped
    assert fire.link == "https://feuerwehr.example/einsaetze/17"
    assert fire.published == datetime(2026, 3, 4, 6, 30, tzinfo=timezone.utc)
    assert fire.updated == datetime(2026, 3, 4, 7, 0, tzinfo=timezone.utc)
    assert 'src="https://feuerwehr.example/img/17-detail.jpg"' in fire.content_html
    assert fire.summary_html == "Keine Verletzten."
    assert [e.url for e in fire.enclosures] == ["https://feuerwehr.example/img/17.jpg"]
    assert oil.published == datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)  # updated stands in
    assert "zwei Stunden gesperrt" in oil.content_html


def test_missing_guids_fall_back_to_link_then_hash():
    result = _load("rss_missing_guids.xml")
    assert result.ok
    by_link, by_hash, unsafe = result.items
    assert by_link.guid == "https://amtsblatt.example/2026/bplan-12" and by_link.guid_source is GuidSource.LINK
    assert by_hash.guid.startswith("sha256:") and by_hash.guid_source is GuidSource.HASH and by_hash.link is None
    assert unsafe.link is None  # javascript: never becomes a link
    assert unsafe.guid_source is GuidSource.HASH and unsafe.guid != by_hash.guid
    assert _load("rss_missing_guids.xml").items[1].guid == by_hash.guid  # stable across polls


def test_broken_feed_is_malformed():
    result = _load("broken.xml")
    assert result.reason is ImportReason.MALFORMED and result.broken and not result.items
    assert "broken" in result.description or "not a readable" in result.description


def test_html_page_is_not_a_feed_and_the_advertised_feed_is_suggested():
    result = _load("html_page.html", "text/html; charset=utf-8", "https://www.stadt.example/presse/")
    assert result.reason is ImportReason.NOT_A_FEED and result.broken
    assert "HTML page" in result.description
    assert "https://www.stadt.example/presse/feed.xml" in result.description


def test_html_page_is_recognised_even_when_served_as_xml():
    result = _load("html_page.html", "application/xml")
    assert result.reason is ImportReason.NOT_A_FEED


def test_valid_feed_without_items_is_empty_but_not_broken():
    result = _load("empty_channel.xml")
    assert result.reason is ImportReason.EMPTY and not result.broken and result.feed_title == "Leer"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", ImportReason.EMPTY_BODY),
        (b"  \n\t", ImportReason.EMPTY_BODY),
        (b"just some text", ImportReason.NOT_A_FEED),
        (b'{"hello": "world"}', ImportReason.NOT_A_FEED),
        (b"{not json", ImportReason.MALFORMED),
        (b"<note><to>x</to></note>", ImportReason.MALFORMED),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ImportReason.NOT_A_FEED),
    ],
)
def test_failures_carry_reasons_and_descriptions(body, reason):
    result = parse_feed(body, None, PRESS)
    assert result.reason is reason and result.description and not result.ok


def test_json_feed_import():
    result = parse_feed((FIXTURES / "jsonfeed_1_1.json").read_bytes(), "application/feed+json", "https://stadtwerke.example/feed.json")
    assert result.ok and result.kind is FeedKind.JSON and result.feed_title == "Stadtwerke Meldungen"
    text_item, html_item = result.items
    assert text_item.guid == "sw-7" and text_item.title == "Wasserleitung repariert"
    assert text_item.content_html == "<p>Die Versorgung läuft wieder.</p><p>Danke für Ihre Geduld.</p>"
    assert [(e.url, e.length) for e in text_item.enclosures] == [("https://stadtwerke.example/m/7.jpg", 1000)]
    assert html_item.guid == "8" and html_item.published == datetime(2026, 3, 2, 11, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("kind", [FeedKind.RSS, FeedKind.ATOM, FeedKind.JSON])
def test_our_own_feeds_import_with_the_same_guids(kind):
    result = parse_feed(render(kind, meta(kind), ENTRIES), kind.media_type, "https://stadt.example/")
    assert result.ok and result.warnings == ()
    assert [i.guid for i in result.items] == [e.guid for e in ENTRIES]
    assert all(i.guid_source is GuidSource.GUID for i in result.items)


def test_max_items_caps_a_huge_feed():
    items = "".join(f"<item><title>Nr {n}</title><guid>g{n}</guid></item>" for n in range(2000))
    body = f'<rss version="2.0"><channel><title>t</title><link>https://x.example/</link><description>d</description>{items}</channel></rss>'
    result = parse_feed(body.encode(), None, PRESS, max_items=50)
    assert result.ok and len(result.items) == 50 and result.items[0].guid == "g0"


# --- selection ---------------------------------------------------------------------------------


def _items():
    return _load("presse_rss_de.xml").items  # newest first, as feeds list them


def test_first_poll_posts_nothing_but_remembers_everything():
    selection = select_new(_items(), set(), first_poll=True)
    assert selection.reason is SelectReason.FIRST_POLL_SKIPPED and selection.new == ()
    assert set(selection.remember) == {"pm-2026-0142", "pm-2026-0141", "pm-2026-0140"}
    assert selection.description


def test_first_poll_with_backfill_posts_oldest_first():
    selection = select_new(_items(), set(), first_poll=True, backfill=True)
    assert selection.reason is SelectReason.NEW_ITEMS
    assert [i.guid for i in selection.new] == ["pm-2026-0140", "pm-2026-0141", "pm-2026-0142"]


def test_later_polls_post_only_unseen_items_and_dedupe_within_the_document():
    items = _items()
    selection = select_new([items[0], items[0], *items[1:]], {"pm-2026-0141", "pm-2026-0140"}, first_poll=False)
    assert [i.guid for i in selection.new] == ["pm-2026-0142"] and selection.remember == ("pm-2026-0142",)
    unchanged = select_new(items, {i.guid for i in items}, first_poll=False)
    assert unchanged.reason is SelectReason.NOTHING_NEW and unchanged.new == () and unchanged.remember == ()


def test_a_flood_of_new_items_is_capped_to_the_newest():
    items = [_item(f"g{n}", published=datetime(2026, 1, 1 + n, tzinfo=timezone.utc)) for n in range(25)]
    selection = select_new(items, set(), first_poll=False, max_new=5)
    assert selection.reason is SelectReason.CAPPED and selection.skipped == 20
    assert [i.guid for i in selection.new] == ["g20", "g21", "g22", "g23", "g24"]
    assert len(selection.remember) == 25  # the skipped ones are never posted later either


def test_items_without_dates_keep_reversed_document_order():
    items = [_item("newest"), _item("middle"), _item("oldest")]
    selection = select_new(items, set(), first_poll=False)
    assert [i.guid for i in selection.new] == ["oldest", "middle", "newest"]


# --- post text ---------------------------------------------------------------------------------


def _item(guid="g", title=None, link=None, published=None, summary=None):
    source = GuidSource.GUID
    return ImportedItem(guid, source, title, link, published, None, summary, None)


LINK = "https://www.stadt.example/presse/2026/strassensperrung-koenigsallee"


def test_title_and_link_fit():
    text = to_post_text(_item(title="Straßensperrung Königsallee", link=LINK), 500)
    assert text.text == f"Straßensperrung Königsallee — {LINK}" and text.fit is TextFit.FITS
    assert str(text) == text.text


def test_long_title_is_shortened_at_a_word_boundary_with_an_ellipsis():
    title = "Straßensperrung in der Königsallee wegen umfangreicher Bauarbeiten an der Fernwärmeleitung"
    text = to_post_text(_item(title=title, link=LINK), 120)
    assert text.fit is TextFit.SHORTENED and len(text.text) <= 120
    head = text.text.split(" — ")[0]
    assert head.endswith("…") and title.startswith(head[:-1]) and title[len(head) - 1] == " "
    assert text.text.endswith(LINK)


def test_link_is_never_cut():
    text = to_post_text(_item(title="Kurz", link=LINK), len(LINK) + 2)
    assert text.text == LINK and text.fit is TextFit.LINK_ONLY
    dropped = to_post_text(_item(title="Ein Titel mit Worten", link=LINK), 15)
    assert dropped.fit is TextFit.LINK_DROPPED and dropped.text == "Ein Titel mit…"


def test_single_overlong_word_is_cut_visibly():
    text = to_post_text(_item(title="Donaudampfschifffahrtsgesellschaftskapitän"), 10)
    assert text.text == "Donaudamp…" and text.fit is TextFit.SHORTENED


def test_summary_stands_in_for_a_missing_title_and_custom_counting_is_used():
    item = _item(summary="<p>Heute &amp; morgen</p><p>geschlossen</p>", link="https://x.example/a")
    assert to_post_text(item, 100).text == "Heute & morgen geschlossen — https://x.example/a"
    # X-style counting: every URL weighs 23 regardless of its length.
    weighted = to_post_text(_item(title="Wort " * 10, link=LINK), 40, length=lambda s: len(s.replace(LINK, "x" * 23)))
    assert weighted.fit is TextFit.SHORTENED and weighted.text.endswith(LINK)


def test_nothing_to_say():
    assert to_post_text(_item(), 100).fit is TextFit.NOTHING


def test_a_budget_too_small_for_any_text_says_so():
    text = to_post_text(_item(title="Wort", link=LINK), 0)
    assert text.text == "" and text.fit is TextFit.NO_ROOM and text.description


def test_plain_text_titles_keep_angle_brackets():
    from feed_samples import SPECIAL

    result = parse_feed(render(FeedKind.ATOM, meta(), [SPECIAL]), None, "https://stadt.example/")
    assert result.items[0].title == SPECIAL.title
