"""What a handler did with a verified activity: a reason code that is at once the audit reason, the log
reason and (for the few that are not 202) the HTTP answer."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from consent.audit import Action
from consent.models import Subject


class Effect(enum.StrEnum):
    FOLLOWER_ADDED = "follower_added"
    FOLLOW_RENEWED = "follow_renewed"
    FOLLOWER_REMOVED = "follower_removed"
    REPLY_STORED = "reply_stored"
    REPLY_UPDATED = "reply_updated"
    REPLY_ERASED = "reply_erased"
    SUBJECT_UPDATED = "subject_updated"
    SUBJECT_ERASED = "subject_erased"
    INTERACTION_ADDED = "interaction_added"
    INTERACTION_REMOVED = "interaction_removed"
    REPORT_RECEIVED = "report_received"
    QUOTE_ACCEPTED = "quote_accepted"
    QUOTE_REJECTED = "quote_rejected"
    CONSENT_GIVEN = "consent_given"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_UNCLEAR = "consent_unclear"  # an answer to our request that is neither yes nor stop
    VOTE_COUNTED = "vote_counted"
    # Votes accepted without a count (the sender learns nothing it could use to retry differently)
    VOTE_NOT_A_POLL = "vote_not_a_poll"
    VOTE_UNKNOWN_OPTION = "vote_unknown_option"
    VOTE_POLL_CLOSED = "vote_poll_closed"
    VOTE_ALREADY_VOTED = "vote_already_voted"
    # Accepted with no effect
    ALREADY_DONE = "already_done"
    IGNORED_TYPE = "ignored_type"
    UNSUPPORTED = "unsupported"
    NOT_FOR_US = "not_for_us"
    UNKNOWN_POST = "unknown_post"
    UNKNOWN_SUBJECT = "unknown_subject"
    SUBJECT_GONE = "subject_gone"
    SUBJECT_OBJECTED = "subject_objected"  # the person objected (Art. 21): nothing new is stored
    NOT_AUTHOR = "not_author"
    NOTHING_TO_UNDO = "nothing_to_undo"
    ACTOR_FETCH_FAILED = "actor_fetch_failed"
    OBJECT_FETCH_FAILED = "object_fetch_failed"
    # Answered with an error status
    UNKNOWN_LOCAL_ACTOR = "unknown_local_actor"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS.get(self, self.value.replace("_", " "))

    @property
    def action(self) -> Action:
        return _ACTIONS.get(self, Action.INBOUND_ACCEPTED)

    @property
    def status(self) -> int:
        return 404 if self is Effect.UNKNOWN_LOCAL_ACTOR else 202


_ACTIONS = {
    Effect.FOLLOWER_ADDED: Action.FOLLOWER_ADDED,
    Effect.FOLLOW_RENEWED: Action.FOLLOWER_ADDED,
    Effect.FOLLOWER_REMOVED: Action.FOLLOWER_REMOVED,
    Effect.REPLY_STORED: Action.REPLY_STORED,
    Effect.REPLY_UPDATED: Action.REPLY_UPDATED,
    Effect.REPLY_ERASED: Action.REPLY_ERASED,
    Effect.SUBJECT_UPDATED: Action.SUBJECT_UPDATED,
    Effect.SUBJECT_ERASED: Action.SUBJECT_ERASED,
    Effect.INTERACTION_ADDED: Action.INTERACTION_ADDED,
    Effect.INTERACTION_REMOVED: Action.INTERACTION_REMOVED,
    Effect.REPORT_RECEIVED: Action.REPORT_RECEIVED,
    Effect.QUOTE_ACCEPTED: Action.QUOTE_ANSWERED,
    Effect.QUOTE_REJECTED: Action.QUOTE_ANSWERED,
    Effect.VOTE_COUNTED: Action.VOTE_COUNTED,
}

_DESCRIPTIONS = {
    Effect.FOLLOWER_ADDED: "follower stored; Accept queued",
    Effect.FOLLOW_RENEWED: "already a follower; Accept queued again",
    Effect.IGNORED_TYPE: "activity type is not handled; ignored",
    Effect.NOT_FOR_US: "activity concerns none of our accounts or posts",
    Effect.UNKNOWN_POST: "the post it refers to does not exist (or is not published)",
    Effect.UNKNOWN_SUBJECT: "the sender is not known here; nothing to change",
    Effect.SUBJECT_GONE: "the sender was erased; nothing is stored for them",
    Effect.SUBJECT_OBJECTED: "the sender objected to processing; nothing new is stored for them",
    Effect.UNKNOWN_LOCAL_ACTOR: "no such account here",
}


@dataclass(frozen=True)
class Handled:
    effect: Effect
    subject: Subject | None = None
    details: dict = field(default_factory=dict)  # counts and codes only, never content
