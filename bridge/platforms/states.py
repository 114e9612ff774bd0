"""The send states of one (post, platform) and the changes between them, declared once and checked on every
change: a send that went out can be edited or deleted but never become "queued" again, a deleted one stays
deleted. Code that would make an undeclared change is a bug and raises `IllegalTransition`."""

from __future__ import annotations

from datetime import datetime

from bridge.store.platforms import AnswerState, PlatformAnswer, PlatformSend, SendState

S = SendState
# Which states each state may change to (staying the same is always allowed). QUEUED is where every send
# starts. SENDING and UNKNOWN mean "it may be there": they end sent, failed, cancelled, deleted or manual,
# or go back to the queue when the request never left, or when an editor checked that it is not there.
TRANSITIONS: dict[SendState, frozenset[SendState]] = {
    S.QUEUED: frozenset({S.SENDING, S.SENT, S.FAILED, S.UNKNOWN, S.CANCELLED, S.BY_HAND}),
    S.BY_HAND: frozenset({S.SENT, S.CANCELLED}),  # an editor posted it by hand, or the post was deleted
    S.SENDING: frozenset({S.QUEUED, S.SENT, S.FAILED, S.UNKNOWN, S.CANCELLED, S.DELETED, S.MANUAL}),
    S.UNKNOWN: frozenset({S.QUEUED, S.SENDING, S.SENT, S.FAILED, S.CANCELLED, S.DELETED, S.MANUAL}),
    S.SENT: frozenset({S.DELETED, S.MANUAL}),
    S.FAILED: frozenset({S.QUEUED}),  # sent again: by an editor, or when the account works again
    S.CANCELLED: frozenset({S.QUEUED}),  # the post became public again
    S.DELETED: frozenset(),
    S.MANUAL: frozenset(),
}


class IllegalTransition(Exception):
    """A change of send state the table does not declare (a bug in the caller, never a user's mistake)."""

    def __init__(self, before: str, after: str):
        super().__init__(f"send state {before} -> {after} is not allowed")
        self.before, self.after = before, after


def allowed(before: str, after: SendState) -> bool:
    try:
        current = SendState(before)
    except ValueError:
        return False
    return current is after or after in TRANSITIONS[current]


def move(row: PlatformSend, after: SendState, now: datetime) -> None:
    """The only way a send row changes state."""
    if not allowed(row.state, after):
        raise IllegalTransition(str(row.state), str(after))
    row.state, row.updated_at = after, now


A = AnswerState
# An answer to a platform reply: the same rule as a send (SENDING and UNKNOWN mean "it may be there"), plus
# DRAFT, kept while the account needs reconnecting. An answer that arrived stays so.
ANSWER_TRANSITIONS: dict[AnswerState, frozenset[AnswerState]] = {
    A.AWAITING_APPROVAL: frozenset({A.QUEUED, A.DRAFT}),
    A.DRAFT: frozenset({A.QUEUED}),
    A.QUEUED: frozenset({A.SENDING, A.DRAFT, A.FAILED}),
    A.SENDING: frozenset({A.QUEUED, A.DRAFT, A.SENT, A.UNKNOWN, A.FAILED}),
    A.UNKNOWN: frozenset({A.SENDING, A.QUEUED, A.SENT, A.FAILED}),
    A.FAILED: frozenset({A.QUEUED}),  # sent again by an editor
    A.SENT: frozenset(),
}


def move_answer(row: PlatformAnswer, after: AnswerState, now: datetime) -> None:
    """The only way an answer changes state."""
    try:
        before = AnswerState(row.state)
    except ValueError:
        raise IllegalTransition(str(row.state), str(after)) from None
    if before is not after and after not in ANSWER_TRANSITIONS[before]:
        raise IllegalTransition(str(row.state), str(after))
    row.state, row.updated_at = after, now
