"""Replies to an account's posts as Mastodon Notification entities of type `mention` (v1, and the grouped
v2 shape of Mastodon 4.3). Pure functions: the caller opens the replies (consent's vault) and passes plain
values.

Privacy: the author of a reply appears as an account that exists only in this notification (its id is
derived from the reply's, not from the person), so the API gives no way to gather one person's replies;
there are no favourite, reblog or follow notifications because the store keeps counts of those, not people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from bridge.convert.mastodon import mastodon_datetime

# Ids of replies (as statuses) and of their authors (as accounts) start here: far above any post's id and
# beyond the 32-bit account ids, so that no id of the instance's own posts or accounts is ever reused.
REPLY_ID_BASE = 10**17


@dataclass(frozen=True)
class MentionFacts:
    """One reply as moderation sees it, opened; `state` and `consent` are the moderation and consent states."""

    reply_id: int
    post_id: int | None
    author: str
    handle: str | None
    author_url: str | None
    url: str | None
    content_html: str  # sanitised on arrival (fediverse) or escaped (platforms)
    summary: str | None
    received_at: datetime
    state: str
    consent: str | None


def reply_status_id(reply_id: int) -> str:
    return str(REPLY_ID_BASE + reply_id)


def _author(facts: MentionFacts, placeholder_avatar: str) -> dict:
    username, _, _host = (facts.handle or "").lstrip("@").partition("@")
    created = mastodon_datetime(facts.received_at.replace(hour=0, minute=0, second=0, microsecond=0))
    return {
        "id": reply_status_id(facts.reply_id), "username": username or facts.author,
        "acct": (facts.handle or facts.author).lstrip("@"), "display_name": facts.author,
        "locked": False, "bot": False, "discoverable": False, "group": False, "indexable": False,
        "noindex": True, "created_at": created, "note": "", "url": facts.author_url or facts.url or "",
        "uri": facts.author_url or facts.url or "", "avatar": placeholder_avatar, "avatar_static": placeholder_avatar,
        "header": placeholder_avatar, "header_static": placeholder_avatar, "followers_count": 0,
        "following_count": 0, "statuses_count": 0, "last_status_at": None, "emojis": [], "fields": [],
    }


def mention_status(facts: MentionFacts, account_id: int, placeholder_avatar: str) -> dict:
    """The reply as a Status answering the post `post_id` of account `account_id`."""
    return {
        "id": reply_status_id(facts.reply_id), "uri": facts.url or "", "url": facts.url,
        "created_at": mastodon_datetime(facts.received_at), "edited_at": None,
        "account": _author(facts, placeholder_avatar), "content": facts.content_html,
        "text": None, "visibility": "public", "sensitive": bool(facts.summary),
        "spoiler_text": escape(facts.summary or "", quote=False) if facts.summary else "",
        "media_attachments": [], "application": None, "mentions": [], "tags": [], "emojis": [],
        "reblogs_count": 0, "favourites_count": 0, "replies_count": 0,
        "in_reply_to_id": str(facts.post_id) if facts.post_id else None,
        "in_reply_to_account_id": str(account_id) if facts.post_id else None,
        "reblog": None, "poll": None, "card": None, "language": None, "favourited": False, "reblogged": False,
        "muted": False, "bookmarked": False, "pinned": False, "filtered": [],
        "stadtbote": {"moderation": facts.state, "consent": facts.consent or "not_asked"},
    }


def mention_notification(facts: MentionFacts, account_id: int, placeholder_avatar: str) -> dict:
    status = mention_status(facts, account_id, placeholder_avatar)
    return {"id": str(facts.reply_id), "type": "mention", "created_at": status["created_at"],
            "group_key": f"ungrouped-{facts.reply_id}", "account": status["account"], "status": status}


def grouped_notifications(notifications: list[dict]) -> dict:
    """Mastodon 4.3's `/api/v2/notifications`: mentions are never grouped, so each is its own group."""
    groups = [{"group_key": n["group_key"], "notifications_count": 1, "type": n["type"],
               "most_recent_notification_id": n["id"], "page_min_id": n["id"], "page_max_id": n["id"],
               "latest_page_notification_at": n["created_at"], "sample_account_ids": [n["account"]["id"]],
               "status_id": n["status"]["id"]} for n in notifications]
    return {"accounts": [n["account"] for n in notifications], "statuses": [n["status"] for n in notifications],
            "notification_groups": groups}
