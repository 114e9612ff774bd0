"""Comments on channel posts out of `getUpdates`: messages in the linked discussion group that answer
the automatic forward of one of our channel posts. Only public group messages; opt-outs skipped."""

from __future__ import annotations

from datetime import datetime, timezone

from bridge.platforms.connectors.base import PlatformReply

OPT_OUT_TAGS = ("#nobridge", "#nobot")


def updates_to_replies(updates: list, group: str) -> tuple[list[PlatformReply], int, int]:
    """(replies, skipped, next offset). The offset confirms the updates, so Telegram drops them."""
    replies: list[PlatformReply] = []
    skipped, next_offset = 0, 0
    for update in updates:
        if not isinstance(update, dict):
            continue
        next_offset = max(next_offset, int(update.get("update_id") or 0) + 1)
        message = update.get("message") or update.get("edited_message")
        if not isinstance(message, dict) or not _in_group(message, group):
            continue
        root = _root(message.get("reply_to_message"))
        if root is None:
            continue  # not a comment on a channel post
        reply = _reply(message, group, root)
        if reply is None:
            skipped += 1
        else:
            replies.append(reply)
    return replies, skipped, next_offset


def _in_group(message: dict, group: str) -> bool:
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    return group in (str(chat.get("id")), f"@{chat.get('username')}")


def _root(replied) -> str | None:
    """The channel message id the comment answers (Bot API 7: forward_origin; older: forward_from_message_id)."""
    if not isinstance(replied, dict) or not replied.get("is_automatic_forward"):
        return None
    origin = replied.get("forward_origin") if isinstance(replied.get("forward_origin"), dict) else {}
    found = origin.get("message_id") or replied.get("forward_from_message_id")
    return str(found) if found else None


def _reply(message: dict, group: str, root: str) -> PlatformReply | None:
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    text = str(message.get("text") or message.get("caption") or "")
    if not sender.get("id") or sender.get("is_bot") or any(t in text.lower() for t in OPT_OUT_TAGS):
        return None
    when = datetime.fromtimestamp(int(message.get("date") or 0), timezone.utc) if message.get("date") else None
    return PlatformReply(f"telegram:{group}:{message.get('message_id')}", f"telegram:{sender['id']}", text, when,
                         None, root)
