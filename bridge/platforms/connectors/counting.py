"""Counting text the way each platform counts it; every counter returns an int in its platform's unit."""

from __future__ import annotations

import regex

from bridge.convert.text import parse_text

GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> int:
    """User-perceived characters: a flag, a family emoji or an e with a combining accent count once."""
    return len(GRAPHEME.findall(text))


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def utf16_units(text: str) -> int:
    """Telegram measures texts and entity offsets in UTF-16 code units: an emoji outside the BMP is 2."""
    return len(text.encode("utf-16-le")) // 2


def characters(text: str, url_weight: int | None = 23) -> int:
    """Mastodon: code points, each link weighs `url_weight`, a remote mention counts its @user part only."""
    total = 0
    for token in parse_text(text).tokens:
        if token.kind == "url" and url_weight is not None:
            total += url_weight
        elif token.kind == "mention":
            total += len(token.text.split("@")[1]) + 1
        else:
            total += len(token.text)
    return total
