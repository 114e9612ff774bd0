"""Rendered feeds parse cleanly with feedparser and carry what the specs require."""

from __future__ import annotations

import calendar
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import feedparser
import pytest

from feed_samples import EDITED, ENTRIES, IMAGE_1, SPECIAL, UNTITLED, VIDEO, WITH_CW, WITH_IMAGES, meta
from feeds.model import FeedKind
from feeds.render import render, render_atom, render_json_feed, render_rss

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _parsed(kind: FeedKind, entries=ENTRIES, **kw):
    body = render(kind, meta(kind, **kw), entries)
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return body, parsed


def _utc(struct) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc)


@pytest.mark.parametrize("kind", [FeedKind.RSS, FeedKind.ATOM])
def test_xml_feeds_parse_without_bozo_and_keep_guids_links_and_dates(kind):
    _, parsed = _parsed(kind)
    assert parsed.version == {"rss": "rss20", "atom": "atom10"}[kind]
    assert parsed.feed.title == "Stadt Müllheim – Aktuelles <&>"
    assert parsed.feed.language.startswith("de")
    assert [e.id for e in parsed.entries] == [e.guid for e in ENTRIES]
    assert [e.link for e in parsed.entries] == [e.url for e in ENTRIES]
    for got, entry in zip(parsed.entries, ENTRIES):
        assert _utc(got.published_parsed) == entry.published.astimezone(timezone.utc)


@pytest.mark.parametrize("kind", [FeedKind.RSS, FeedKind.ATOM])
def test_titles_with_unicode_and_html_special_characters_survive(kind):
    _, parsed = _parsed(kind)
    by_id = {e.id: e for e in parsed.entries}
    assert by_id[SPECIAL.guid].title == SPECIAL.title
    assert by_id[WITH_IMAGES.guid].title == "Straßensperrung Königsallee"
    assert "5 &lt; 7 &amp;" in by_id[SPECIAL.guid].content[0].value


@pytest.mark.parametrize("kind", [FeedKind.RSS, FeedKind.ATOM])
def test_content_warning_is_the_title_and_summary_and_opens_the_content(kind):
    _, parsed = _parsed(kind)
    got = {e.id: e for e in parsed.entries}[WITH_CW.guid]
    assert got.title == "CW: Unfall mit Verletzten"
    assert got.summary == "CW: Unfall mit Verletzten"
    html = got.content[0].value
    assert html.index("CW: Unfall mit Verletzten") < html.index("Schwerer Unfall")


@pytest.mark.parametrize("kind", [FeedKind.RSS, FeedKind.ATOM])
def test_images_come_through_with_alt_text(kind):
    _, parsed = _parsed(kind)
    got = {e.id: e for e in parsed.entries}[WITH_IMAGES.guid]
    html = got.content[0].value
    assert 'alt="Karte: Umleitung über die Bahnhofstraße"' in html
    assert "alt=\"Schild &quot;Durchfahrt verboten&quot; &amp; Absperrung\"" in html
    assert [m["url"] for m in got.media_content] == [m.url for m in WITH_IMAGES.media]
    enclosures = [e.href for e in got.enclosures]
    if kind is FeedKind.RSS:
        assert enclosures == [IMAGE_1.url]  # one per item, the first image even though a video comes first
        assert got.enclosures[0].length == "48213"
    else:
        assert enclosures == [m.url for m in WITH_IMAGES.media]


def test_edits_show_as_updated_in_atom_rss_and_json():
    _, atom = _parsed(FeedKind.ATOM)
    _, rss = _parsed(FeedKind.RSS)
    for parsed in (atom, rss):
        got = {e.id: e for e in parsed.entries}[EDITED.guid]
        assert _utc(got.updated_parsed) == EDITED.updated
        assert _utc(got.published_parsed) == EDITED.published
    items = json.loads(render_json_feed(meta(FeedKind.JSON), ENTRIES))["items"]
    by_id = {i["id"]: i for i in items}
    assert by_id[EDITED.guid]["date_modified"] == "2026-03-04T12:30:00Z"
    assert "date_modified" not in by_id[UNTITLED.guid]


def test_rss_structure_follows_rss_2_0():
    root = ET.fromstring(render_rss(meta(FeedKind.RSS), ENTRIES))
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for required in ("title", "link", "description"):
        assert channel.findtext(required), required
    assert channel.findtext("language") == "de"
    assert RFC822.match(channel.findtext("lastBuildDate"))
    links = {(l.get("rel"), l.get("href")) for l in channel.findall(f"{ATOM}link")}
    assert ("self", "https://stadt.example/@stadt.rss") in links
    assert ("hub", "https://hub.example/") in links
    items = channel.findall("item")
    assert len(items) == len(ENTRIES)
    for item, entry in zip(items, ENTRIES):
        assert item.find("title") is not None or item.find("description") is not None
        guid = item.find("guid")
        assert guid.text == entry.guid
        assert guid.get("isPermaLink") == ("true" if entry.guid == entry.url else "false")
        assert RFC822.match(item.findtext("pubDate")), item.findtext("pubDate")
        assert parsedate_to_datetime(item.findtext("pubDate")) == entry.published
        assert len(item.findall("enclosure")) <= 1
        assert item.findtext(f"{CONTENT}encoded")
    media_item = items[ENTRIES.index(WITH_IMAGES)]
    enclosure = media_item.find("enclosure")
    assert {k: enclosure.get(k) for k in ("url", "length", "type")} == {"url": IMAGE_1.url, "length": "48213", "type": "image/jpeg"}
    contents = media_item.findall(f"{MEDIA}content")
    assert [c.findtext(f"{MEDIA}description") for c in contents] == [m.alt_text for m in WITH_IMAGES.media]
    assert contents[0].get("medium") == "video" and contents[1].get("width") == "1200"


def test_rss_items_without_title_are_allowed_and_have_a_description():
    root = ET.fromstring(render_rss(meta(FeedKind.RSS), [UNTITLED]))
    item = root.find("channel/item")
    assert item.find("title") is None
    assert item.findtext("description").startswith("Heute ist der Wertstoffhof")


def test_atom_structure_follows_rfc_4287():
    root = ET.fromstring(render_atom(meta(FeedKind.ATOM), ENTRIES))
    assert root.tag == f"{ATOM}feed"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "de"
    for required in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{required}"), required
    assert RFC3339.match(root.findtext(f"{ATOM}updated"))
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated")) == EDITED.updated  # newest change
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Stadt Müllheim"
    links = {(l.get("rel"), l.get("type"), l.get("href")) for l in root.findall(f"{ATOM}link")}
    assert ("self", "application/atom+xml", "https://stadt.example/@stadt.atom") in links
    assert ("alternate", "text/html", "https://stadt.example/@stadt") in links
    assert ("hub", None, "https://hub.example/") in links
    assert ("alternate", "application/rss+xml", "https://stadt.example/@stadt.rss") in links
    assert not any(rel == "alternate" and href.endswith(".atom") for rel, _, href in links)
    for element, entry in zip(root.findall(f"{ATOM}entry"), ENTRIES):
        assert element.findtext(f"{ATOM}id") == entry.guid
        assert element.findtext(f"{ATOM}title")
        assert RFC3339.match(element.findtext(f"{ATOM}updated"))
        assert RFC3339.match(element.findtext(f"{ATOM}published"))
        alternates = [l for l in element.findall(f"{ATOM}link") if l.get("rel") == "alternate"]
        assert [(l.get("href"), l.get("type")) for l in alternates] == [(entry.url, "text/html")]
        assert element.find(f"{ATOM}content").get("type") == "html"
    untitled = root.findall(f"{ATOM}entry")[ENTRIES.index(UNTITLED)]
    title = untitled.findtext(f"{ATOM}title")
    assert title.endswith("…") and len(title) <= 80 and UNTITLED.summary_text.startswith(title[:-1])
    media_entry = root.findall(f"{ATOM}entry")[ENTRIES.index(WITH_IMAGES)]
    enclosures = [l for l in media_entry.findall(f"{ATOM}link") if l.get("rel") == "enclosure"]
    assert [(l.get("href"), l.get("type"), l.get("title")) for l in enclosures] == [
        (m.url, m.mime_type, m.alt_text) for m in WITH_IMAGES.media
    ]
    assert enclosures[0].get("length") == str(VIDEO.length) and enclosures[2].get("length") is None


def test_json_feed_follows_version_1_1():
    doc = json.loads(render_json_feed(meta(FeedKind.JSON), ENTRIES))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(doc["title"], str) and doc["feed_url"] == "https://stadt.example/@stadt.json"
    assert doc["home_page_url"] == "https://stadt.example/@stadt" and doc["language"] == "de"
    assert doc["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]
    assert doc["authors"] == [{"name": "Stadt Müllheim", "url": "https://stadt.example/@stadt"}]
    assert isinstance(doc["items"], list) and len(doc["items"]) == len(ENTRIES)
    for item, entry in zip(doc["items"], ENTRIES):
        assert item["id"] == entry.guid and isinstance(item["id"], str)
        assert item["url"] == entry.url
        assert isinstance(item["content_html"], str) and item["content_html"]
        assert datetime.fromisoformat(item["date_published"].replace("Z", "+00:00")) == entry.published
    by_id = {i["id"]: i for i in doc["items"]}
    assert "title" not in by_id[UNTITLED.guid]
    assert by_id[WITH_CW.guid]["title"] == "CW: Unfall mit Verletzten" == by_id[WITH_CW.guid]["summary"]
    media = by_id[WITH_IMAGES.guid]
    assert media["image"] == IMAGE_1.url
    assert [(a["url"], a["mime_type"], a.get("title"), a.get("size_in_bytes")) for a in media["attachments"]] == [
        (m.url, m.mime_type, m.alt_text, m.length) for m in WITH_IMAGES.media
    ]
    assert by_id[SPECIAL.guid]["title"] == SPECIAL.title and by_id[SPECIAL.guid]["language"] == "de"
    _assert_no_nulls(doc)


def _assert_no_nulls(value):
    if isinstance(value, dict):
        for item in value.values():
            assert item is not None
            _assert_no_nulls(item)
    elif isinstance(value, list):
        for item in value:
            _assert_no_nulls(item)


@pytest.mark.parametrize("kind", list(FeedKind))
def test_rendering_is_deterministic(kind):
    assert render(kind, meta(kind), ENTRIES) == render(kind, meta(kind), ENTRIES)


@pytest.mark.parametrize("kind", list(FeedKind))
def test_empty_feed_is_still_valid(kind):
    body = render(kind, meta(kind), [])
    if kind is FeedKind.JSON:
        assert json.loads(body)["items"] == []
    else:
        parsed = feedparser.parse(body)
        assert parsed.bozo == 0 and parsed.entries == []


@pytest.mark.parametrize("kind", list(FeedKind))
def test_no_hub_link_without_a_configured_hub(kind):
    body = render(kind, meta(kind, hub=False), ENTRIES)
    assert b"hub.example" not in body and b'"hubs"' not in body


def test_control_characters_in_a_post_do_not_break_the_feed():
    from dataclasses import replace

    nasty = replace(SPECIAL, title="Bell\x07 and NUL\x00 and \ud800 surrogate", content_html="<p>\x0bvertical tab</p>")
    for kind in (FeedKind.RSS, FeedKind.ATOM):
        _, parsed = _parsed(kind, entries=[nasty])
        assert parsed.entries[0].title == "Bell and NUL and  surrogate"
    json.loads(render_json_feed(meta(FeedKind.JSON), [nasty]))
