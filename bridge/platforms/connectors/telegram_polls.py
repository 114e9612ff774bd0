"""Telegram's native poll for a post with a poll: `sendPoll` after the message (which keeps its text and
the link to the page), `stopPoll` when our poll closes, and the counts Telegram reports (`Poll` objects in
`poll` updates and in stopPoll's answer: per option `voter_count`, never who).

Channels take anonymous polls only. Telegram lets a poll close itself only 5–600 seconds after sending
(`open_period`); a longer poll is stopped by our closing job."""

from __future__ import annotations

from bridge.platforms.connectors.base import PollView

QUESTION_LIMIT = 300
OPTION_LIMIT = 100
MAX_OPTIONS = 10
OPEN_PERIOD = (5, 600)  # seconds Telegram accepts for `open_period`
POLLS_KEPT = 50  # latest counts kept in the account state, newest polls first
STATE_KEY = "poll_counts"  # in `AccountState.limits`: {telegram poll id: [votes per option]}


def poll_request(poll: PollView, text: str) -> dict | None:
    """The `sendPoll` fields (without chat_id), or None when the poll does not fit Telegram (then the link
    alone): 2–10 options of at most 100 characters."""
    if not 2 <= len(poll.options) <= MAX_OPTIONS or any(not o or len(o) > OPTION_LIMIT for o in poll.options):
        return None
    request = {"question": question_of(text), "options": [{"text": o} for o in poll.options],
               "is_anonymous": True, "type": "regular", "allows_multiple_answers": poll.multiple}
    if OPEN_PERIOD[0] <= poll.expires_in <= OPEN_PERIOD[1]:
        request["open_period"] = poll.expires_in
    return request


def question_of(text: str) -> str:
    """The post's first non-empty line, shortened at a word boundary to Telegram's 300 characters."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "") or "?"
    if len(line) <= QUESTION_LIMIT:
        return line
    cut = line[:QUESTION_LIMIT - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > QUESTION_LIMIT // 2 else cut).rstrip() + "…"


def poll_counts(poll: object) -> tuple[str, tuple[int, ...]] | None:
    """(poll id, votes per option) of a Telegram `Poll` object, None if unreadable. (Its `total_voter_count`
    is not kept: the account state holds votes per option only, enough for the page and the CSV.)"""
    if not isinstance(poll, dict) or not poll.get("id") or not isinstance(poll.get("options"), list):
        return None
    votes = [o.get("voter_count") if isinstance(o, dict) else None for o in poll["options"]]
    if not votes or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in votes):
        return None
    return str(poll["id"]), tuple(votes)


def remember_counts(limits: dict, updates: list) -> None:
    """Keeps the latest counts of each `poll` update in the account state (updates arrive once: after
    confirming them, Telegram forgets them)."""
    kept = dict(limits.get(STATE_KEY) or {})
    for update in updates:
        found = poll_counts(update.get("poll")) if isinstance(update, dict) else None
        if found is not None:
            kept.pop(found[0], None)
            kept[found[0]] = list(found[1])  # re-inserted: the newest last
    limits[STATE_KEY] = dict(list(kept.items())[-POLLS_KEPT:])
