"""Moderating replies: a small declared state graph, and the rule for showing a reply publicly.

    pending  → approved | hidden | spam | deleted
    approved → hidden | spam | deleted
    hidden   → approved | spam | deleted
    spam     → hidden | deleted         (a wrong spam mark is undone to hidden, never straight to public)
    deleted  → (nothing)

Approval is the moderators' part only: a reply appears on the public pages when it is approved AND its
author gave consent for that purpose AND no opt-out signal — on the reply when it arrived, or on the
profile now — speaks against it. An opt-out signal always wins over consent.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import Reply


class ModerationState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    HIDDEN = "hidden"
    SPAM = "spam"  # spam or abuse: hidden, and counted apart for the moderators
    DELETED = "deleted"


TRANSITIONS: dict[ModerationState, frozenset[ModerationState]] = {
    ModerationState.PENDING: frozenset({ModerationState.APPROVED, ModerationState.HIDDEN, ModerationState.SPAM,
                                        ModerationState.DELETED}),
    ModerationState.APPROVED: frozenset({ModerationState.HIDDEN, ModerationState.SPAM, ModerationState.DELETED}),
    ModerationState.HIDDEN: frozenset({ModerationState.APPROVED, ModerationState.SPAM, ModerationState.DELETED}),
    ModerationState.SPAM: frozenset({ModerationState.HIDDEN, ModerationState.DELETED}),
    ModerationState.DELETED: frozenset(),
}


class MoveReason(enum.StrEnum):
    MOVED = "moved"
    SAME_STATE = "same_state"
    NOT_ALLOWED = "transition_not_allowed"
    UNKNOWN_STATE = "unknown_state"

    @property
    def description(self) -> str:
        return {MoveReason.MOVED: "the reply's state changed",
                MoveReason.SAME_STATE: "the reply is already in this state",
                MoveReason.NOT_ALLOWED: "this change of state is not allowed",
                MoveReason.UNKNOWN_STATE: "the reply is in a state moderation does not know"}[self]


@dataclass(frozen=True)
class Move:
    reason: MoveReason
    before: str
    after: str

    @property
    def ok(self) -> bool:
        return self.reason is MoveReason.MOVED


def allowed(before: str, after: ModerationState) -> MoveReason:
    try:
        current = ModerationState(before)
    except ValueError:
        return MoveReason.UNKNOWN_STATE
    if current is after:
        return MoveReason.SAME_STATE
    return MoveReason.MOVED if after in TRANSITIONS[current] else MoveReason.NOT_ALLOWED


async def move(session: AsyncSession, reply: Reply, after: ModerationState, now: datetime) -> Move:
    """Changes the state if the graph allows it; the caller records the audit entry with the result."""
    before = reply.state
    reason = allowed(before, after)
    if reason is MoveReason.MOVED:
        reply.state, reply.updated_at = str(after), now
        await session.flush()
    return Move(reason, before, str(after) if reason is MoveReason.MOVED else before)


class Blocker(enum.StrEnum):
    """Why a reply must not be shown publicly whatever consent says."""

    OPT_OUT_TAG = "opt_out_tag"  # #nobot, #nobridge, #noindex … in name or bio
    NOT_INDEXABLE = "not_indexable"  # indexable: false
    NOT_PUBLIC = "not_public"  # the reply was unlisted, followers-only or direct
    HIDES_FROM_WEB = "hides_from_web"  # GoToSocial hidesToPublic/hidesCcPublicFromUnauthedWeb


def display_blockers(reply_signals: dict | None, profile_signals: dict | None) -> list[Blocker]:
    """Every opt-out signal in the snapshot taken on arrival or in the profile as we know it now."""
    found: list[Blocker] = []
    for signals in (reply_signals or {}, profile_signals or {}):
        if signals.get("opt_out_tags"):
            found.append(Blocker.OPT_OUT_TAG)
        if signals.get("indexable") is False:
            found.append(Blocker.NOT_INDEXABLE)
        if signals.get("hides_to_public") or signals.get("hides_cc_public"):
            found.append(Blocker.HIDES_FROM_WEB)
    visibility = (reply_signals or {}).get("visibility")
    if visibility != "public":
        found.append(Blocker.NOT_PUBLIC)
    return list(dict.fromkeys(found))
