"""Plain post text for an imported item ("title — link") within a platform's character budget.

Budgets differ per platform (Bluesky counts graphemes, X weighs URLs as 23), so the counting function
is a parameter; `len` is only the default.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

from feeds.items import ImportedItem

SEPARATOR = " — "
ELLIPSIS = "…"
_SKIP_TAGS = {"script", "style", "template"}
_BLOCK_TAGS = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}


class TextFit(enum.StrEnum):
    FITS = "fits"
    SHORTENED = "shortened"
    LINK_ONLY = "link_only"
    LINK_DROPPED = "link_dropped"
    NOTHING = "nothing"
    NO_ROOM = "no_room"


_DESCRIPTIONS = {
    TextFit.FITS: "title and link fit unchanged",
    TextFit.SHORTENED: "the title was shortened at a word boundary, marked with an ellipsis",
    TextFit.LINK_ONLY: "no room for any title next to the link; only the link is posted",
    TextFit.LINK_DROPPED: "the link alone is longer than the budget; the title is posted without it",
    TextFit.NOTHING: "the item has neither title, text nor link",
    TextFit.NO_ROOM: "the character budget is too small for any text",
}


@dataclass(frozen=True, slots=True)
class PostText:
    text: str
    fit: TextFit
    description: str

    def __str__(self) -> str:
        return self.text


def to_post_text(
    item: ImportedItem, max_chars: int, *, length: Callable[[str], int] = len, separator: str = SEPARATOR
) -> PostText:
    """`title — link`, shortening only the title (a cut link is a broken link)."""
    title = " ".join((item.title or plain_text(item.summary_html or item.content_html)).split())
    link = item.link or ""
    if not title and not link:
        return _result("", TextFit.NOTHING)
    if not link or length(link) > max_chars:
        short = shorten(title, max_chars, length)
        if not short:
            return _result("", TextFit.NO_ROOM)
        if link:
            return _result(short, TextFit.LINK_DROPPED)
        return _result(short, TextFit.FITS if short == title else TextFit.SHORTENED)
    if not title:
        return _result(link, TextFit.FITS)
    full = f"{title}{separator}{link}"
    if length(full) <= max_chars:
        return _result(full, TextFit.FITS)
    short = shorten(title, max_chars - length(separator) - length(link), length)
    if not short:
        return _result(link, TextFit.LINK_ONLY)
    return _result(f"{short}{separator}{link}", TextFit.SHORTENED)


def _result(text: str, fit: TextFit) -> PostText:
    return PostText(text, fit, _DESCRIPTIONS[fit])


def shorten(text: str, budget: int, length: Callable[[str], int] = len) -> str:
    """The longest prefix of whole words plus an ellipsis within the budget. A first word that alone
    is too long is cut, still with the ellipsis, so no cut is ever silent. Empty if nothing fits."""
    if length(text) <= budget:
        return text
    words = text.split(" ")
    best = ""
    for count in range(1, len(words) + 1):
        candidate = " ".join(words[:count]).rstrip(" ,;:.&+-–—") + ELLIPSIS
        if length(candidate) > budget:
            break
        best = candidate
    if best and best != ELLIPSIS:
        return best
    for end in range(len(text), 0, -1):
        candidate = text[:end].rstrip() + ELLIPSIS
        if length(candidate) <= budget and text[:end].strip():
            return candidate
    return ""


def plain_text(markup: str | None) -> str:
    """Visible text of an HTML fragment, entities decoded, whitespace collapsed."""
    if not markup:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # html.parser on hostile markup; keep what was read
        pass
    return " ".join("".join(parser.parts).split())


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)
