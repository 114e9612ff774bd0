"""Replies from a Mastodon `/context` answer: public and unlisted only (a token also sees private and
direct replies — those never leave the platform), minus authors whose bio says #nobot or #nobridge."""

from __future__ import annotations

from datetime import datetime

from activitypub.sanitize import html_to_text
from bridge.platforms.connectors.base import PlatformReply

PUBLIC = ("public", "unlisted")
OPT_OUT_TAGS = ("#nobridge", "#nobot")


def context_replies(context: dict) -> tuple[list[PlatformReply], int]:
    replies: list[PlatformReply] = []
    skipped = 0
    for status in context.get("descendants") or []:
        reply = _reply(status) if isinstance(status, dict) else None
        if reply is None:
            skipped += 1
        else:
            replies.append(reply)
    return replies, skipped


def _reply(status: dict) -> PlatformReply | None:
    account = status.get("account") if isinstance(status.get("account"), dict) else {}
    if status.get("visibility") not in PUBLIC:
        return None
    bio = html_to_text(str(account.get("note") or "")).lower()
    if any(tag in bio for tag in OPT_OUT_TAGS):
        return None
    # The author's fediverse id where the server gives it: the same person as in our own inbox.
    author = str(account.get("uri") or account.get("url") or "")
    reply_id = str(status.get("uri") or status.get("url") or "")
    if not author or not reply_id:
        return None
    return PlatformReply(reply_id, author, html_to_text(str(status.get("content") or "")),
                         _time(status.get("created_at")), status.get("url"))


def _time(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
