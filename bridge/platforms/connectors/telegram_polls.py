"""Telegram's native poll for a post with a poll: `sendPoll` after the message (which keeps its text and
the link to the page), `stopPoll` when our poll closes, and the counts Telegram reports (`Poll` objects in
`poll` updates and in stopPoll's answer: per option `voter_count` and `total_voter_count`, never who).

Channels take anonymous polls only. Telegram lets a poll close itself only 5–600 seconds after sending
(`open_period`); a longer poll is stopped by our closing job."""

from __future__ import annotations

from bridge.platforms.connectors.base import PollView

QUESTION_LIMIT = 300
OPTION_LIMIT = 100
MAX_OPTIONS = 10
OPEN_PERIOD = (5, 600)  # seconds Telegram accepts for `open_period`
POLLS_KEPT = 50  # latest counts kept in the account state, newest polls first
# in `AccountState.limits`: {telegram poll id: {"votes": [votes per option], "voters": people who voted}}
# (a plain list of votes, as kept before voters were, is read as votes without voters)
STATE_KEY = "poll_counts"


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


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def poll_counts(poll: object) -> tuple[str, tuple[int, ...], int | None] | None:
    """(poll id, votes per option, people who voted) of a Telegram `Poll` object, None if unreadable; the
    voters are None where Telegram leaves `total_voter_count` out (for multiple choice they are fewer than
    the votes)."""
    if not isinstance(poll, dict) or not poll.get("id") or not isinstance(poll.get("options"), list):
        return None
    votes = [o.get("voter_count") if isinstance(o, dict) else None for o in poll["options"]]
    if not votes or not all(_count(v) for v in votes):
        return None
    voters = poll.get("total_voter_count")
    return str(poll["id"]), tuple(votes), voters if _count(voters) else None


def kept_counts(limits: dict, poll_id: str) -> tuple[tuple[int, ...], int | None] | None:
    """(votes per option, voters) last reported for the poll, from the account state; None when none came."""
    entry = (limits.get(STATE_KEY) or {}).get(poll_id)
    if isinstance(entry, list):
        return tuple(entry), None
    if isinstance(entry, dict) and isinstance(entry.get("votes"), list):
        return tuple(entry["votes"]), entry.get("voters")
    return None


def remember_counts(limits: dict, updates: list) -> None:
    """Keeps the latest counts of each `poll` update in the account state (updates arrive once: after
    confirming them, Telegram forgets them)."""
    kept = dict(limits.get(STATE_KEY) or {})
    for update in updates:
        found = poll_counts(update.get("poll")) if isinstance(update, dict) else None
        if found is not None:
            kept.pop(found[0], None)
            kept[found[0]] = {"votes": list(found[1]), "voters": found[2]}  # re-inserted: the newest last
    limits[STATE_KEY] = dict(list(kept.items())[-POLLS_KEPT:])
