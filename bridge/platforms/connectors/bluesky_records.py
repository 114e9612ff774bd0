"""Pieces of an `app.bsky.feed.post` record: rich-text facets (UTF-8 byte offsets), the deterministic
record key, and reading replies out of a `getPostThread` answer."""

from __future__ import annotations

import hashlib
from datetime import datetime

import regex

from bridge.platforms.connectors.base import PlatformReply
from bridge.convert.text import parse_text

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
HANDLE = regex.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
OPT_OUT_TAGS = ("#nobridge", "#nobot")
OPT_OUT_LABEL = "!no-unauthenticated"


def tid(handle: str) -> str:
    """A TID (13 base32-sortable characters: 53 bits of microseconds, 10 bits of clock id) derived only
    from the send handle `<post id>-<hash>`: every retry writes the same record key, so a second
    create cannot make a second post. The time part is the post's creation time (in its id)."""
    post_part, _, digest = handle.partition("-")
    seed = int(hashlib.sha256(handle.encode()).hexdigest(), 16)
    millis = int(post_part) >> 16 if post_part.isdigit() else seed % (2 ** 40)
    micros = (millis * 1000 + seed % 1000) & ((1 << 53) - 1)
    value = (micros << 10) | ((seed >> 10) % 1024)
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def facets(text: str) -> tuple[list[dict], list[tuple[int, int, str]]]:
    """Link and tag facets, and mention candidates (byte start, byte end, handle) to resolve to DIDs.
    Offsets are UTF-8 bytes: the text before each token, encoded."""
    found: list[dict] = []
    mentions: list[tuple[int, int, str]] = []
    position = 0
    for token in parse_text(text).tokens:
        start, end = position, position + len(token.text.encode())
        position = end
        if token.kind == "url":
            found.append(_facet(start, end, {"$type": "app.bsky.richtext.facet#link", "uri": token.value}))
        elif token.kind == "hashtag":
            found.append(_facet(start, end, {"$type": "app.bsky.richtext.facet#tag", "tag": token.value}))
        elif token.kind == "mention":
            handle = token.text[1:]
            if HANDLE.match(handle):  # "@name.bsky.social"; fediverse "@user@host" cannot be a Bluesky mention
                mentions.append((start, end, handle))
    return found, mentions


def _facet(start: int, end: int, feature: dict) -> dict:
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}


def mention_facet(start: int, end: int, did: str) -> dict:
    return _facet(start, end, {"$type": "app.bsky.richtext.facet#mention", "did": did})


def post_url(uri: str) -> str:
    """at://did/app.bsky.feed.post/rkey → the bsky.app page."""
    parts = uri.removeprefix("at://").split("/")
    return f"https://bsky.app/profile/{parts[0]}/post/{parts[-1]}" if len(parts) == 3 else uri


def thread_replies(thread: dict, limit: int = 2000) -> tuple[list[PlatformReply], list[str], int]:
    """Public replies (all depths) minus opted-out authors; deleted ones (notFoundPost) as gone."""
    replies: list[PlatformReply] = []
    gone: list[str] = []
    skipped = 0
    stack = list(thread.get("replies") or [])
    while stack and len(replies) < limit:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        kind = node.get("$type", "")
        if kind.endswith("#notFoundPost"):
            gone.append(str(node.get("uri", "")))
            continue
        if not kind.endswith("#threadViewPost") or not isinstance(node.get("post"), dict):
            continue  # blocked posts and unknown shapes are left alone
        stack.extend(node.get("replies") or [])
        reply = _reply(node["post"])
        if reply is None:
            skipped += 1
        else:
            replies.append(reply)
    return replies, gone, skipped


def _reply(post: dict) -> PlatformReply | None:
    author = post.get("author") if isinstance(post.get("author"), dict) else {}
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    text = str(record.get("text") or "")
    labels = {str(label.get("val")) for label in author.get("labels") or [] if isinstance(label, dict)}
    if OPT_OUT_LABEL in labels or any(tag in text.lower() for tag in OPT_OUT_TAGS):
        return None
    uri, did = str(post.get("uri") or ""), str(author.get("did") or "")
    if not uri or not did:
        return None
    return PlatformReply(uri, did, text, _time(record.get("createdAt")), post_url(uri))


def _time(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
