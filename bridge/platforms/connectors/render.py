"""Rendering shared by all connectors (part of the one conversion layer): a post as a `PostView`,
shortening at a word boundary with a link back to the permalink, content warnings, Telegram's HTML."""

from __future__ import annotations

from html import escape
from typing import Callable

import regex

from activitypub.uris import Uris
from bridge.config.model import Config
from bridge.platforms.connectors.base import ImageView, PollView, PostView, VideoView
from bridge.runtime.media_storage import media_key, media_storage
from bridge.convert.events import address_line, when_text
from bridge.store.events import loaded_event
from bridge.store.models import Media, Post
from bridge.store.polls import loaded_poll
from bridge.convert.text import parse_text

ELLIPSIS = " …"
BREAK = regex.compile(r"\s+")


def media_views(media: list[Media], config: Config) -> tuple[tuple[ImageView, ...], tuple[VideoView, ...]]:
    """A post's stored media as connectors get them: images (with the videos' poster frames) and videos."""
    storage = media_storage(config)  # the caller made local copies of a bucket's files (`ensure_local`)
    images = tuple(ImageView(str(storage.local_path(media_key(name))), mime_type, "" if m.decorative else m.alt,
                             m.width, m.height, m.is_video) for m in media for name, mime_type in [_still(m)] if name)
    local = lambda name: str(storage.local_path(media_key(name))) if name else None  # noqa: E731
    videos = tuple(VideoView(local(m.filename), m.mime_type, m.alt, m.width, m.height, m.duration_ms or 0, m.size,
                             local(m.poster_filename), local(m.captions_filename), m.no_speech)
                   for m in media if m.is_video)
    return images, videos


def post_view(post: Post, config: Config, uris: Uris) -> PostView:
    images, videos = media_views(list(post.media), config)
    permalink = uris.permalink(post.actor.name, str(post.id))
    poll = loaded_poll(post)
    native = PollView(tuple(poll.options), poll.multiple, poll.expires_in, poll.hide_totals) if poll else None
    return PostView(post.id, post.text + _participation(post, permalink), post.spoiler_text or "", post.language,
                    permalink, images, post.published_at, native, videos)


def _still(media) -> tuple[str | None, str]:
    """What a platform gets of a medium as an image: the image, or of a video its poster frame (a connector
    with video upload leaves the poster out and sends the video; the others link to the page where it plays
    with captions)."""
    if media.is_video:
        return media.poster_filename, "image/jpeg"
    return media.filename, media.mime_type


def stored_files(post: Post, video: bool = False) -> list[str]:
    """The media storage keys a connector reads for this post: the images and poster frames, and with `video`
    (a connector that uploads video) the videos and their captions too."""
    keys = [media_key(name) for m in post.media for name in [_still(m)[0]] if name]
    if video:
        keys += [media_key(name) for m in post.media if m.is_video
                 for name in (m.filename, m.captions_filename) if name]
    return keys


def _participation(post: Post, permalink: str) -> str:
    """No platform connector creates events, and only some create native polls (`PostView.poll`): every
    platform gets the event's facts, and a link to the page where the poll is answered from the fediverse and
    its results shown — a platform's native votes are counted there and shown apart, never merged."""
    event = loaded_event(post)
    if event is not None:
        where = f", {address_line(event)}" if address_line(event) else ""
        return f"\n\n📅 {event.title}: {when_text(event)}{where}\n{permalink}"
    if loaded_poll(post) is not None:
        return f"\n\n🗳️ {permalink}"
    if any(m.is_video for m in post.media):
        return f"\n\n▶️ {permalink}"
    return ""


def with_warning(view: PostView, marker: str = "⚠️ ") -> str:
    """Platforms without a content-warning field get it as the first line, so it is never lost."""
    if not view.spoiler_text.strip():
        return view.text
    return f"{marker}{view.spoiler_text.strip()}\n\n{view.text}"


def fit_text(text: str, permalink: str, count: Callable[[str], int], limit: int) -> tuple[str, bool]:
    """The text as is when it fits; else the longest prefix ending at a word boundary, then " …" and the
    permalink — counted as a whole, so links and hashtags added at the end are included. Never cuts
    inside a word, link or hashtag (they contain no whitespace)."""
    if count(text) <= limit:
        return text, False
    tail = f"{ELLIPSIS}\n{permalink}"
    cuts = [m.start() for m in BREAK.finditer(text)]
    best = ""
    lo, hi = 0, len(cuts) - 1
    while lo <= hi:  # the count grows with the prefix, so binary search finds the longest that fits
        mid = (lo + hi) // 2
        candidate = text[:cuts[mid]].rstrip()
        if count(candidate + tail) <= limit:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return (best + tail) if best else permalink, True


def telegram_html(text: str) -> str:
    """Telegram's HTML subset: `<`, `>` and `&` escaped, links as <a href>; hashtags stay text
    (Telegram recognises them itself)."""
    parts = []
    for token in parse_text(text).tokens:
        if token.kind == "url":
            parts.append(f'<a href="{escape(token.value, quote=True)}">{escape(token.value, quote=False)}</a>')
        else:
            parts.append(escape(token.text, quote=False))
    return "".join(parts)

