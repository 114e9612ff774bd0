"""Remote Notes (and Article/Page/Question) parsed into one flat shape, whatever software sent them.

Content precedence: `content` > first `contentMap` value > `name` (Lemmy Page, Article) > `source.content`
when it is plain text. HTML is kept raw here; sanitise with `sanitize.sanitize_html` before storing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .normalize import (
    as_list,
    audience,
    author_of,
    bool_of,
    first_map_value,
    id_of,
    language_of,
    text_of,
    type_of,
    url_of,
    web_url,
)
from .uris import PUBLIC

MAX_ATTACHMENTS = 16  # Mastodon shows 4; keep a few more for moderation, drop the rest
QUOTE_KEYS = ("quote", "quoteUri", "quoteUrl", "_misskey_quote")


@dataclass(frozen=True)
class AttachmentIn:
    url: str
    media_type: str | None
    alt_text: str | None
    kind: str | None


@dataclass(frozen=True)
class NoteIn:
    id: str
    type: str
    attributed_to: str | None
    content_html: str
    summary: str | None
    sensitive: bool
    language: str | None
    in_reply_to: str | None
    published: datetime | None
    updated: datetime | None
    url: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    mentions: tuple[str, ...]  # actor ids from Mention tags
    hashtags: tuple[str, ...]  # lower-case names without '#'
    attachments: tuple[AttachmentIn, ...]
    quote: str | None
    name: str | None = None  # a poll vote's chosen option (Mastodon: a Note with `name`, no content)

    @property
    def is_vote(self) -> bool:
        """Mastodon's vote shape: a `name`, a question it answers, and nothing to read."""
        return bool(self.name and self.in_reply_to and not self.content_html.strip())

    @property
    def visibility(self) -> str:
        """Mastodon's reading of to/cc: public, unlisted, followers (or limited) and direct."""
        if PUBLIC in self.to:
            return "public"
        if PUBLIC in self.cc:
            return "unlisted"
        if any(a.endswith("/followers") for a in self.to + self.cc):
            return "followers"
        return "direct"

    def mentions_actor(self, actor_id: str) -> bool:
        return actor_id in self.mentions or actor_id in self.to or actor_id in self.cc


@dataclass(frozen=True)
class NoteRejected:
    description: str


def parse_note(note: Any, context: Any = None) -> NoteIn | NoteRejected:
    if not isinstance(note, dict):
        return NoteRejected("note is not an object")
    note_id = id_of(note.get("id"))
    if not note_id:
        return NoteRejected("note has no id")
    to, cc = audience(note)
    tags = [t for t in as_list(note.get("tag")) if isinstance(t, dict)]
    return NoteIn(
        id=note_id,
        type=type_of(note) or "Note",
        attributed_to=author_of(note.get("attributedTo")) or id_of(note.get("actor")),
        content_html=_content(note),
        summary=text_of(note.get("summary")) or None,  # GoToSocial sends "" for no warning
        sensitive=bool_of(note.get("sensitive")),
        language=language_of(note, context),
        in_reply_to=id_of(note.get("inReplyTo")),
        published=_moment(note.get("published")),
        updated=_moment(note.get("updated")),
        url=url_of(note.get("url")),  # only http(s): it becomes a link on our pages
        to=tuple(to),
        cc=tuple(cc),
        mentions=tuple(i for t in tags if type_of(t) == "Mention" and (i := id_of(t.get("href")))),
        hashtags=tuple(n.lstrip("#").lower() for t in tags if type_of(t) == "Hashtag"
                       and (n := text_of(t.get("name")))),
        attachments=_attachments(note.get("attachment")),
        quote=next((q for key in QUOTE_KEYS if (q := id_of(note.get(key)))), None),
        name=text_of(note.get("name")) or None,
    )


def _content(note: dict[str, Any]) -> str:
    content = text_of(note.get("content"))
    if content:
        return content
    _, mapped = first_map_value(note.get("contentMap"))
    if mapped:
        return mapped
    name = text_of(note.get("name"))
    if name and type_of(note) in ("Page", "Article"):
        return f"<p>{_escape(name)}</p>"
    source = note.get("source")
    if isinstance(source, dict) and source.get("mediaType") in (None, "text/plain"):
        text = text_of(source.get("content"))
        return f"<p>{_escape(text)}</p>" if text else ""
    return ""


def _attachments(value: Any) -> tuple[AttachmentIn, ...]:
    found = []
    for item in as_list(value)[:MAX_ATTACHMENTS]:
        if isinstance(item, str):
            found.append(AttachmentIn(item, None, None, None))
            continue
        if not isinstance(item, dict):
            continue
        url = url_of(item.get("url")) or web_url(id_of(item.get("href")))
        if url:
            alt = text_of(item.get("summary")) or text_of(item.get("name"))  # Mastodon reads summary first
            found.append(AttachmentIn(url, text_of(item.get("mediaType")), alt, type_of(item)))
    return tuple(found)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
