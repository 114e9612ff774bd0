"""What a poll may be, in one place: Mastodon's limits (`convert.polls`, announced in `/api/v2/instance`)
and the check that the web form, the API and approval share through `drafts.check_draft`."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.convert.polls import MAX_EXPIRATION, MAX_OPTION_CHARACTERS, MAX_OPTIONS, MIN_EXPIRATION


@dataclass(frozen=True)
class PollDraft:
    options: tuple[str, ...]
    expires_in: int  # seconds from publication
    multiple: bool = False
    hide_totals: bool = False


def poll_problems(poll: PollDraft) -> list[tuple[str, dict]]:
    """Each rule the poll breaks, as (PostReason value, facts); the caller wraps them as refusals."""
    problems: list[tuple[str, dict]] = []
    options = [o.strip() for o in poll.options]
    if len([o for o in options if o]) < 2:
        problems.append(("poll_too_few_options", {"limit": 2}))
    if len(options) > MAX_OPTIONS:
        problems.append(("poll_too_many_options", {"limit": MAX_OPTIONS}))
    if any(len(o) > MAX_OPTION_CHARACTERS for o in options):
        problems.append(("poll_option_too_long", {"limit": MAX_OPTION_CHARACTERS}))
    filled = [o for o in options if o]
    if len(set(filled)) != len(filled):
        problems.append(("poll_duplicate_options", {}))
    if poll.expires_in < MIN_EXPIRATION:
        problems.append(("poll_too_short", {"limit": MIN_EXPIRATION}))
    elif poll.expires_in > MAX_EXPIRATION:
        problems.append(("poll_too_long", {"limit": MAX_EXPIRATION}))
    return problems
