"""How one entry reads in a feed, shared by all three formats so they never disagree.

Content warnings: readers that list titles or summaries see only the warning; the full content stays in
the content field, opened by the warning, because feed readers have no disclosure widget of their own.
"""

from __future__ import annotations

import html
import re

from feeds.model import FeedEntry, FeedMedia, MediaKind

CW_LABEL = "CW"
ATOM_TITLE_CHARS = 80

# XML 1.0 allows only these characters; lxml refuses the rest, and one stray control character in a
# post must not take the whole feed down.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(value: str) -> str:
    """Drop characters XML cannot carry (and lone surrogates, which UTF-8 cannot either)."""
    return _XML_INVALID.sub("", value)


def _warning(entry: FeedEntry) -> str | None:
    warning = clean_text(entry.content_warning or "").strip()
    return warning or None


def display_title(entry: FeedEntry) -> str | None:
    """The title readers should see, with the warning first; None when the post has neither."""
    if _warning(entry):
        warning = f"{CW_LABEL}: {_warning(entry)}"
        return f"{warning} — {entry.title}" if entry.title else warning
    return entry.title if entry.title and entry.title.strip() else None


def required_title(entry: FeedEntry) -> str:
    """Atom needs a title on every entry; microblog posts have none, so derive one from the text."""
    title = clean_text(display_title(entry) or "").strip()
    if title:
        return title
    text = " ".join(clean_text(entry.summary_text).split())
    return shorten(text, ATOM_TITLE_CHARS) or entry.url


def summary(entry: FeedEntry) -> str:
    """Plain-text summary; behind a content warning only the warning is shown."""
    if _warning(entry):
        return f"{CW_LABEL}: {_warning(entry)}"
    return entry.summary_text


def content_html(entry: FeedEntry) -> str:
    """Full HTML: the warning stated first, then the post, then every attachment with its alt text
    (so readers that ignore enclosures and media:content still show images accessibly)."""
    parts = []
    if _warning(entry):
        parts.append(f"<p><strong>{html.escape(CW_LABEL)}: {html.escape(_warning(entry))}</strong></p>")
    parts.append(entry.content_html)
    parts.extend(media_html(m) for m in entry.media)
    body = "\n".join(p for p in parts if p and clean_text(p).strip())
    # Never empty: Atom then needs no content-less fallback, and RSS items always have a description.
    return body or f'<p><a href="{html.escape(entry.url, quote=True)}">{html.escape(entry.url)}</a></p>'



def media_html(media: FeedMedia) -> str:
    url = html.escape(media.url, quote=True)
    alt = html.escape(media.alt_text or "", quote=True)
    if media.kind is MediaKind.IMAGE:
        size = "".join(
            f' {name}="{value}"' for name, value in (("width", media.width), ("height", media.height)) if value
        )
        return f'<p><img src="{url}" alt="{alt}"{size}></p>'
    label = alt or html.escape(media.url.rsplit("/", 1)[-1] or media.url)
    return f'<p><a href="{url}">{label}</a></p>'


def first_enclosure(entry: FeedEntry) -> FeedMedia | None:
    """RSS 2.0 carries one enclosure per item: the first image, else the first attachment."""
    images = [m for m in entry.media if m.kind is MediaKind.IMAGE]
    return (images or list(entry.media) or [None])[0]


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis; a single over-long word is cut
    mid-word, but still visibly marked."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    head, space, _ = cut.rpartition(" ")
    return (head.rstrip() if space and head.strip() else cut).rstrip() + "…"
