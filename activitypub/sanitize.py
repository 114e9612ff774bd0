"""Sanitising REMOTE HTML with Mastodon's allow-list (lib/sanitize_ext/sanitize_config.rb), via bleach.

Kept: p, br, span, a, del, pre, code, em, strong, b, i, u, ul, ol, li, blockquote. Classes survive only
if they are microformats (h-*, p-*, u-*, dt-*, e-*) or mention / hashtag / ellipsis / invisible. Links
must be http(s) and get rel="nofollow noopener noreferrer" and target="_blank".
"""

from __future__ import annotations

import functools
import html
import importlib
import re
from html.parser import HTMLParser

from .normalize import WEB_SCHEMES

TAGS = frozenset({"p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u", "ul", "ol", "li",
                  "blockquote"})
ATTRIBUTES = {"a": ["href", "rel", "class"], "span": ["class"], "ol": ["start", "reversed"], "li": ["value"]}
PROTOCOLS = WEB_SCHEMES
_CLASS_OK = re.compile(r"^(?:(?:h|p|u|dt|e)-[\w-]+|mention|hashtag|ellipsis|invisible)$")
_DROP_WITH_CONTENT = re.compile(r"<(script|style|template|iframe|object)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_LINK_REL = "nofollow noopener noreferrer"


def _filter_tokens(tokens):
    """Filters class names and forces rel/target on links (bleach's attribute callbacks cannot rewrite)."""
    for token in tokens:
        if token["type"] in ("StartTag", "EmptyTag"):
            attrs = dict(token.get("data") or {})
            classes = attrs.pop((None, "class"), None)
            if classes:
                kept = [c for c in classes.split() if _CLASS_OK.match(c)]
                if kept:
                    attrs[(None, "class")] = " ".join(kept)
            if token["name"] == "a":
                attrs[(None, "rel")] = _LINK_REL
                attrs[(None, "target")] = "_blank"
            token["data"] = attrs
        yield token


# Built once per process, at the first remote HTML: the html5lib pipeline costs more than cleaning a reply, and
# bleach (with html5lib) is memory a process that never sees remote HTML does not carry.
@functools.cache
def _cleaner():
    bleach = importlib.import_module("bleach")

    class LinkAndClassFilter(importlib.import_module("bleach.html5lib_shim").Filter):
        def __iter__(self):
            return _filter_tokens(super().__iter__())
    attributes = {**ATTRIBUTES, "a": [*ATTRIBUTES["a"], "target"]}
    return bleach.Cleaner(tags=TAGS, attributes=attributes, protocols=PROTOCOLS, strip=True, strip_comments=True,
                          filters=[LinkAndClassFilter])


def sanitize_html(value: str | None) -> str:
    """Remote HTML → HTML that is safe to store and show."""
    if not value:
        return ""
    # Script and style bodies are dropped, not shown as text; headings become bold paragraphs as in Mastodon.
    value = _DROP_WITH_CONTENT.sub("", value)
    value = re.sub(r"<h[1-6]\b[^>]*>", "<p><strong>", value, flags=re.IGNORECASE)
    value = re.sub(r"</h[1-6]\s*>", "</strong></p>", value, flags=re.IGNORECASE)
    return _cleaner().clean(value)


class _TextExtractor(HTMLParser):
    _BREAK_BEFORE = {"p", "blockquote", "pre", "ul", "ol", "li", "div"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self._BREAK_BEFORE:
            self.parts.append("\n\n" if tag in ("p", "blockquote", "pre", "div") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(value: str | None) -> str:
    """Plain text for feeds, notifications, consent keyword matching ("JA", "STOP") and search."""
    if not value:
        return ""
    extractor = _TextExtractor()
    extractor.feed(value)
    extractor.close()
    text = html.unescape("".join(extractor.parts))
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
