"""Recognising links, hashtags and mentions in what editors type, and rendering Mastodon's HTML."""

from __future__ import annotations

from hypothesis import given, strategies as st

from bridge.convert.text import count_characters, parse_text, render_html


def tag_url(tag):
    return f"https://stadt.test/tags/{tag}"


def mention_url(acct):
    user, host = acct.split("@")
    return f"https://{host}/@{user}"


def test_links_hashtags_and_mentions_are_recognised():
    parsed = parse_text("Heute #Stadtfest! Infos: https://musterstadt.example/fest_(2026)). "
                        "Danke @erika@mastodon.social und @stadt. #stadtfest #Öffnungszeiten", "stadt.test")
    assert parsed.hashtags == ["Stadtfest", "Öffnungszeiten"]  # case-insensitive de-duplication
    assert parsed.mentions == ["erika@mastodon.social", "stadt@stadt.test"]
    assert parsed.urls == ["https://musterstadt.example/fest_(2026)"]


def test_anchors_in_urls_are_not_hashtags():
    parsed = parse_text("Siehe https://example.org/page#section und mail@example.org")
    assert parsed.hashtags == [] and parsed.mentions == [] and parsed.urls == ["https://example.org/page#section"]


def test_html_is_escaped_and_paragraphs_kept():
    html = render_html(parse_text("<script>alert(1)</script>\nZeile 2\n\n#Neu & mehr"), tag_url, mention_url)
    assert html == ("<p>&lt;script&gt;alert(1)&lt;/script&gt;<br>Zeile 2</p>"
                    '<p><a href="https://stadt.test/tags/Neu" class="mention hashtag" rel="tag">'
                    "#<span>Neu</span></a> &amp; mehr</p>")


def test_mentions_render_as_h_cards_and_links_are_shortened():
    html = render_html(parse_text("@erika@mastodon.social https://www.example.org/" + "x" * 40), tag_url, mention_url)
    assert '<span class="h-card"><a href="https://mastodon.social/@erika" class="u-url mention">@<span>erika' in html
    assert 'href="https://www.example.org/' + "x" * 40 + '"' in html and "…</a>" in html


def test_counting_follows_mastodon():
    assert count_characters("abc") == 3
    assert count_characters("https://example.org/" + "a" * 100) == 23
    assert count_characters("@erika@mastodon.social") == len("@erika")


@given(st.text(max_size=300))
def test_parsing_loses_no_text(text):
    assert "".join(t.text for t in parse_text(text, "stadt.test").tokens) == text
