"""Our posts as `Note`s, shaped like Mastodon's own so every server displays them fully.

`content` is HTML (already sanitised by the bridge), `contentMap` carries the language, `summary` +
`sensitive` a content warning, Hashtag and Mention tags, attachments with alt text in `name`, `to:
Public` and `cc: followers + mentioned actors`, `updated` on edits, and `interactionPolicy.canQuote`.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .uris import PUBLIC, Uris
from .vocab import iso, public_audience, with_context

MAX_ALT_TEXT = 1500  # Mastodon truncates alt text here


class QuotePolicy(enum.StrEnum):
    PUBLIC = "public"
    FOLLOWERS = "followers"
    NOBODY = "nobody"


@dataclass(frozen=True)
class Attachment:
    url: str
    media_type: str
    alt_text: str
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None
    focal_point: tuple[float, float] | None = None
    kind: str = "Document"  # Mastodon sends Document; Image and Video are read the same way
    duration_seconds: float | None = None  # a video's length
    poster_url: str | None = None  # a video's still frame (Mastodon reads it from `icon`)
    captions: tuple["Captions", ...] = ()  # a video's WebVTT files, linked as PeerTube links its subtitles


@dataclass(frozen=True)
class Captions:
    language: str  # BCP 47 tag, e.g. "de"
    name: str  # the language's name
    url: str  # the .vtt file


@dataclass(frozen=True)
class Mention:
    href: str  # actor id
    name: str  # "@user@host"


@dataclass(frozen=True)
class NoteInput:
    actor_name: str
    post_id: str
    content_html: str
    published: datetime
    language: str | None = None
    summary: str | None = None  # content warning
    sensitive: bool = False
    hashtags: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    updated: datetime | None = None
    in_reply_to: str | None = None
    quote_policy: QuotePolicy = QuotePolicy.PUBLIC
    translations: tuple[tuple[str, str], ...] = ()  # (language, HTML) besides `language`'s, for contentMap


def hashtag_slug(tag: str) -> str:
    """Mastodon lowercases and ASCII-folds tags for their URLs."""
    folded = unicodedata.normalize("NFKD", tag.lstrip("#")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9_]", "", folded.lower()) or tag.lstrip("#").lower()


def note_document(uris: Uris, note: NoteInput) -> dict[str, Any]:
    name = note.actor_name
    to, cc = public_audience(uris, name, [m.href for m in note.mentions])
    document: dict[str, Any] = {
        "id": uris.note(name, note.post_id),
        "type": "Note",
        "attributedTo": uris.actor(name),
        "url": uris.permalink(name, note.post_id),
        "published": iso(note.published),
        "to": to,
        "cc": cc,
        "inReplyTo": note.in_reply_to,
        "summary": note.summary or None,
        "sensitive": bool(note.sensitive or note.summary),
        "content": note.content_html,
        "attachment": [_attachment(a) for a in note.attachments],
        "tag": _tags(uris, note),
        "interactionPolicy": {"canQuote": _quote_policy(uris, name, note.quote_policy)},
    }
    if note.language:
        document["contentMap"] = {note.language: note.content_html, **dict(note.translations)}
    if note.updated is not None:
        document["updated"] = iso(note.updated)
    return with_context(document)


def _attachment(attachment: Attachment) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": attachment.kind,
        "mediaType": attachment.media_type,
        "url": attachment.url,
        "name": attachment.alt_text[:MAX_ALT_TEXT],
    }
    if attachment.width and attachment.height:
        document["width"], document["height"] = attachment.width, attachment.height
    if attachment.blurhash:
        document["blurhash"] = attachment.blurhash
    if attachment.focal_point is not None:
        document["focalPoint"] = list(attachment.focal_point)
    if attachment.duration_seconds:
        document["duration"] = f"PT{round(attachment.duration_seconds)}S"  # xsd:duration, as PeerTube writes it
    if attachment.poster_url:
        document["icon"] = {"type": "Image", "mediaType": "image/jpeg", "url": attachment.poster_url}
    if attachment.captions:
        document["subtitleLanguage"] = [{"identifier": c.language, "name": c.name, "url": c.url}
                                        for c in attachment.captions]
    return document


def _tags(uris: Uris, note: NoteInput) -> list[dict[str, str]]:
    tags = [{"type": "Mention", "href": m.href, "name": m.name} for m in note.mentions]
    seen: set[str] = set()
    for tag in note.hashtags:
        slug = hashtag_slug(tag)
        if slug and slug not in seen:
            seen.add(slug)
            tags.append({"type": "Hashtag", "href": uris.tag(slug), "name": "#" + tag.lstrip("#")})
    return tags


def _quote_policy(uris: Uris, name: str, policy: QuotePolicy) -> dict[str, list[str]]:
    # FEP-044f / GoToSocial semantics; an empty automaticApproval means "nobody" to Mastodon 4.5.
    approval = {QuotePolicy.PUBLIC: [PUBLIC], QuotePolicy.FOLLOWERS: [uris.followers(name)],
                QuotePolicy.NOBODY: [uris.actor(name)]}[policy]
    return {"automaticApproval": approval}
