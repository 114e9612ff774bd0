"""Property tests: the importer never raises, rendering survives any text, budgets always hold."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import feedparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed_samples import meta
from feeds.http import evaluate
from feeds.items import GuidSource, ImportedItem
from feeds.importer import ImportReason, TextFit, parse_feed, to_post_text
from feeds.model import FeedEntry, FeedKind, FeedMedia
from feeds.render import render

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

xml_fragments = st.lists(
    st.sampled_from(
        [
            '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>',
            '<rss version="2.0">', "</rss>", "<channel>", "</channel>", "<item>", "</item>", "<title>",
            "</title>", "<guid>", "</guid>", "<link>", "</link>", "<pubDate>", "</pubDate>",
            '<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>", "<entry>", "</entry>", "<id>", "</id>",
            '<enclosure url="x" length="-3" type="image/jpeg"/>', '<link href="javascript:alert(1)"/>',
            "<![CDATA[", "]]>", "&amp;", "&nbsp;", "&#0;", "&#xD800;", "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>", "&a;",
            "Mon, 32 Foo 99999 99:99:99 +9999", "2026-13-45T25:61:00Z", "Ä", "\x00", "{", '"version":',
            "https://jsonfeed.org/version/1.1", "<html>", "<body>", "<p>", "text",
        ]
    ),
    max_size=40,
).map("".join)


@FAST
@given(st.binary(max_size=2048), st.one_of(st.none(), st.sampled_from(["text/html", "application/rss+xml", "x/y; charset=bogus"])))
def test_parse_feed_never_raises_on_arbitrary_bytes(body, content_type):
    result = parse_feed(body, content_type, "https://press.example/feed.xml")
    assert isinstance(result.reason, ImportReason) and result.description
    assert all(item.guid for item in result.items)


@FAST
@given(xml_fragments)
def test_parse_feed_never_raises_on_feed_like_garbage(text):
    result = parse_feed(text.encode("utf-8", "surrogatepass"), None, "https://press.example/feed.xml")
    assert isinstance(result.reason, ImportReason)
    for item in result.items:
        assert item.guid
        assert item.link is None or item.link.startswith(("http://", "https://"))
        assert all(e.url.startswith(("http://", "https://")) for e in item.enclosures)


@FAST
@given(st.text(max_size=300).map(lambda s: "{" + s))
def test_parse_feed_never_raises_on_json_like_input(text):
    assert isinstance(parse_feed(text.encode("utf-8", "surrogatepass"), "application/json", "https://x/").reason, ImportReason)


@FAST
@given(st.text(), st.text(), st.text(), st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text()))
def test_render_survives_any_text_and_still_parses(title, content, summary, cw, alt):
    entry = FeedEntry(
        guid="https://stadt.example/users/stadt/statuses/9", url="https://stadt.example/@stadt/9",
        title=title or None, content_html=content, summary_text=summary, content_warning=cw or None,
        published=datetime(2026, 1, 1, tzinfo=timezone.utc),
        media=(FeedMedia("https://stadt.example/m.jpg", "image/jpeg", 1, 2, 3, alt),),
    )
    for kind in (FeedKind.RSS, FeedKind.ATOM):
        parsed = feedparser.parse(render(kind, meta(kind), [entry]))
        assert parsed.entries[0].id == entry.guid
        # Arbitrary text as HTML content may itself be broken markup; the XML document must not be.
        assert not parsed.bozo or "CharacterEncoding" in type(parsed.bozo_exception).__name__
    assert json.loads(render(FeedKind.JSON, meta(FeedKind.JSON), [entry]))["items"][0]["id"] == entry.guid


words = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Zs", "Cc", "Cs")), min_size=1, max_size=15), max_size=20)


@FAST
@given(words, st.integers(min_value=0, max_value=200), st.booleans())
def test_post_text_stays_within_budget_and_keeps_the_link_whole(title_words, budget, with_link):
    link = "https://press.example/2026/meldung-42" if with_link else None
    item = ImportedItem("g", GuidSource.GUID, " ".join(title_words) or None, link, None, None, None, None)
    text = to_post_text(item, budget)
    assert len(text.text) <= budget
    assert bool(text.text) != (text.fit in {TextFit.NOTHING, TextFit.NO_ROOM})
    if link and text.fit in {TextFit.FITS, TextFit.SHORTENED, TextFit.LINK_ONLY}:
        assert text.text.endswith(link)
    if text.fit is TextFit.SHORTENED:
        assert "…" in text.text


@FAST
@given(st.dictionaries(st.sampled_from(["If-None-Match", "If-Modified-Since", "X"]), st.text(max_size=80)))
def test_evaluate_never_raises(headers):
    result = evaluate(headers, '"abc"', datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert result.description
