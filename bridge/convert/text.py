"""Plain text as editors type it → recognised links, #hashtags and @mentions, and Mastodon-style HTML.

Part of the one conversion layer: every renderer (Note, feed entry, HTML page, platform payload) starts
from `parse_text`, so a hashtag is recognised the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import regex

URL = regex.compile(r"https?://[^\s<>\"'\]\[]+", regex.IGNORECASE)
HASHTAG = regex.compile(r"(?<![\p{L}\p{N}_/#&])#(\p{L}[\p{L}\p{N}_]*|[\p{N}_]+\p{L}[\p{L}\p{N}_]*)")
MENTION = regex.compile(r"(?<![\p{L}\p{N}_/@.])@([A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)(?:@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+))?")
TRAILING = ".,:;!?)'\""
URL_WEIGHT = 23  # Mastodon counts every link as 23 characters, whatever its length


@dataclass(frozen=True)
class Token:
    kind: str  # "text", "url", "hashtag", "mention"
    text: str  # the source text of the token
    value: str = ""  # url, tag name, or "user@host"


@dataclass(frozen=True)
class ParsedText:
    tokens: tuple[Token, ...]

    @property
    def hashtags(self) -> list[str]:
        seen: dict[str, str] = {}
        for t in self.tokens:
            if t.kind == "hashtag":
                seen.setdefault(t.value.lower(), t.value)
        return list(seen.values())

    @property
    def mentions(self) -> list[str]:
        return list(dict.fromkeys(t.value for t in self.tokens if t.kind == "mention"))

    @property
    def urls(self) -> list[str]:
        return list(dict.fromkeys(t.value for t in self.tokens if t.kind == "url"))


def _trim_url(url: str) -> str:
    # A closing bracket belongs to the URL only if it opened inside it (Wikipedia links).
    while url and url[-1] in TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _matches(text: str, local_host: str):
    for m in URL.finditer(text):
        url = _trim_url(m.group(0))
        if len(url) > len("https://"):
            yield m.start(), m.start() + len(url), Token("url", url, url)
    for m in HASHTAG.finditer(text):
        yield m.start(), m.end(), Token("hashtag", m.group(0), m.group(1))
    for m in MENTION.finditer(text):
        host = m.group(2) or local_host
        yield m.start(), m.end(), Token("mention", m.group(0), f"{m.group(1)}@{host}")


def parse_text(text: str, local_host: str = "") -> ParsedText:
    tokens: list[Token] = []
    pos = 0
    # Earliest match wins; a hashtag inside a URL is part of the URL.
    for start, end, token in sorted(_matches(text, local_host), key=lambda x: (x[0], -x[1])):
        if start < pos:
            continue
        if start > pos:
            tokens.append(Token("text", text[pos:start]))
        tokens.append(token)
        pos = end
    if pos < len(text):
        tokens.append(Token("text", text[pos:]))
    return ParsedText(tuple(tokens))


def count_characters(text: str) -> int:
    """Mastodon's counting: a URL weighs 23, a remote mention counts only its @user part."""
    total = 0
    for token in parse_text(text).tokens:
        if token.kind == "url":
            total += URL_WEIGHT
        elif token.kind == "mention":
            total += len(token.text.split("@")[1]) + 1
        else:
            total += len(token.text)
    return total


def render_html(parsed: ParsedText, tag_url, mention_url) -> str:
    """HTML in Mastodon's allowed subset: <p>, <br>, <a>, <span>; callers give the URL builders."""
    paragraphs: list[list[str]] = [[]]
    for token in parsed.tokens:
        if token.kind == "text":
            parts = token.text.replace("\r\n", "\n").split("\n\n")
            for i, part in enumerate(parts):
                if i:
                    paragraphs.append([])
                paragraphs[-1].append(escape(part).replace("\n", "<br>"))
        else:
            paragraphs[-1].append(_render_token(token, tag_url, mention_url))
    return "".join(f"<p>{''.join(p)}</p>"
                   for p in paragraphs if "".join(p).strip())


def _render_token(token: Token, tag_url, mention_url) -> str:
    if token.kind == "url":
        shown = regex.sub(r"^https?://(www\.)?", "", token.value)
        if len(shown) > 30:
            shown = shown[:30] + "…"
        return (f'<a href="{escape(token.value)}" rel="nofollow noopener noreferrer" target="_blank">'
                f"{escape(shown)}</a>")
    if token.kind == "hashtag":
        return (f'<a href="{escape(tag_url(token.value))}" class="mention hashtag" rel="tag">'
                f"#<span>{escape(token.value)}</span></a>")
    user = token.value.split("@")[0]
    return (f'<span class="h-card"><a href="{escape(mention_url(token.value))}" class="u-url mention">'
            f"@<span>{escape(user)}</span></a></span>")
