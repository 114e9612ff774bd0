"""The one function that records audit events.

Entries carry ids, roles, reason codes and outcomes only — never content, payloads or IP addresses —
so that the log itself holds no personal data beyond pseudonymous references.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.auditlog import append, append_many
from consent.auditpolicy import defaults_for
from consent.models import AuditEntry


class Action(enum.StrEnum):
    """Closed vocabulary: a new kind of event is a new member here, never a free-form string."""

    SIGNIN_SUCCEEDED = "signin.succeeded"
    SIGNIN_FAILED = "signin.failed"
    SIGNIN_THROTTLED = "signin.throttled"
    SIGNIN_UNBLOCKED = "signin.unblocked"  # an admin lifted the sign-in blocks on a user
    SIGNIN_SECOND_FACTOR = "signin.second_factor"  # the password was right; the second factor is asked
    SIGNOUT = "signout"
    SECOND_FACTOR_ENROLLED = "second_factor.enrolled"
    SECOND_FACTOR_RESET = "second_factor.reset"  # an admin switched a user's second factor off
    SECOND_FACTOR_DISABLED = "second_factor.disabled"  # the user switched their own off (or was refused)
    RECOVERY_CODES_RENEWED = "second_factor.recovery_renewed"
    PASSWORD_RESET_REQUESTED = "password.reset_requested"  # "forgot password": a link was sent
    EMAIL_CHANGED = "user.email_changed"
    MAIL_SENT = "mail.sent"
    MAIL_FAILED = "mail.failed"
    PASSWORD_CHANGED = "password.changed"
    PASSWORD_RESET = "password.reset"
    USER_CREATED = "user.created"
    USER_DISABLED = "user.disabled"
    USER_ROLE_CHANGED = "user.role_changed"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    TOKEN_REJECTED = "token.rejected"
    CSRF_REJECTED = "csrf.rejected"
    KEY_CREATED = "key.created"
    ACTOR_CREATED = "actor.created"
    ACTOR_UPDATED = "actor.updated"  # an admin changed an account's profile or settings
    ACTOR_RETIRED = "actor.retired"
    ACTOR_MOVED = "actor.moved"  # a retired account's followers were told where it went (Move)
    PLATFORM_CONNECTED = "platform.connected"  # an admin connected a platform account (credentials sealed)
    PLATFORM_DISCONNECTED = "platform.disconnected"
    IMPORT_ADDED = "import.added"  # a feed import of an account was added or changed
    IMPORT_PAUSED = "import.paused"
    IMPORT_RESUMED = "import.resumed"
    IMPORT_REMOVED = "import.removed"
    POST_CREATED = "post.created"
    POST_SUBMITTED = "post.submitted"
    POST_APPROVED = "post.approved"
    POST_RETURNED = "post.returned"
    POST_SCHEDULED = "post.scheduled"
    POST_PUBLISHED = "post.published"
    POST_EDITED = "post.edited"
    POST_DELETED = "post.deleted"
    POST_FAILED = "post.failed"
    POST_FEDERATED = "post.federated"
    DELIVERY_FAILED = "delivery.failed"
    FOLLOWER_GONE = "follower.gone"
    INBOUND_ACCEPTED = "inbound.accepted"
    INBOUND_REJECTED = "inbound.rejected"
    FOLLOWER_ADDED = "follower.added"
    FOLLOWER_REMOVED = "follower.removed"
    REPLY_STORED = "reply.stored"
    REPLY_UPDATED = "reply.updated"
    REPLY_ERASED = "reply.erased"
    SUBJECT_UPDATED = "subject.updated"
    SUBJECT_ERASED = "subject.erased"
    INTERACTION_ADDED = "interaction.added"
    INTERACTION_REMOVED = "interaction.removed"
    REPORT_RECEIVED = "report.received"
    QUOTE_ANSWERED = "quote.answered"
    PLATFORM_TRANSFER = "platform.transfer"  # a request carrying a post left for a platform (transfer log)
    PLATFORM_SENT = "platform.sent"
    PLATFORM_FAILED = "platform.failed"
    PLATFORM_UNKNOWN = "platform.unknown"
    PLATFORM_EDITED = "platform.edited"
    PLATFORM_DELETED = "platform.deleted"
    PLATFORM_MANUAL = "platform.manual"  # the editor must act on the platform by hand
    PLATFORM_DECIDED = "platform.decided"  # an editor resolved an unknown outcome
    PLATFORM_RECONNECT = "platform.reconnect_needed"
    AUDIT_EXPORTED = "audit.exported"
    RETENTION_PURGED = "retention.purged"  # counts per data category, never what was deleted
    SUBJECT_EXPORTED = "subject.exported"  # Art. 15 access
    SUBJECT_OBJECTED = "subject.objected"  # Art. 21 objection
    REQUEST_OPENED = "request.opened"
    REQUEST_CLOSED = "request.closed"
    REPLY_APPROVED = "reply.approved"
    REPLY_HIDDEN = "reply.hidden"
    REPLY_MARKED_SPAM = "reply.marked_spam"
    REPLY_ANSWERED = "reply.answered"
    REPLY_ASSIGNED = "reply.assigned"  # the dialogue desk: who handles a reply
    REPLY_HANDLING = "reply.handling"  # the dialogue desk: open again, or no answer needed
    REPLY_MODERATION_REFUSED = "reply.moderation_refused"  # a state change the graph does not allow
    CONSENT_REQUESTED = "consent.requested"
    CONSENT_GIVEN = "consent.given"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    DOMAIN_BLOCKED = "domain.blocked"
    DOMAIN_UNBLOCKED = "domain.unblocked"
    WARNING_IMPORTED = "warning.imported"  # an official warning message read: source, identifier, action
    VOTE_COUNTED = "poll.vote_counted"  # the poll and the choice; the voter only as the sender's domain
    POLL_CLOSED = "poll.closed"


class Outcome(enum.StrEnum):
    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class Event:
    action: Action
    actor_role: str  # "admin", "editor", "dpo", "system", "api", "anonymous"
    actor_ref: str  # a user id like "user:3", "system", or a pseudonym — never a name or address
    outcome: Outcome = Outcome.OK
    subject_ref: str | None = None
    reason: str | None = None
    purpose: str | None = None
    details: dict = field(default_factory=dict)
    legal_basis: str | None = None  # None: the default of the action's family (`consent.auditpolicy`)
    retention_class: str | None = None


async def record(session: AsyncSession, event: Event, now: datetime | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction, so it commits or rolls back with the change.

    The entry gets the next gap-free sequence number and its Merkle leaf hash (`consent.auditlog`)."""
    return await append(session, _columns(event), now or datetime.now(timezone.utc))


async def record_many(session: AsyncSession, events: list[Event], now: datetime | None = None) -> None:
    """`record` for a batch of events in one transaction: one INSERT for all of them."""
    await append_many(session, [_columns(event) for event in events], now or datetime.now(timezone.utc))


def _columns(event: Event) -> dict:
    purpose, basis, retention = defaults_for(str(event.action))
    return {"action": str(event.action), "actor_role": event.actor_role, "actor_ref": event.actor_ref,
            "subject_ref": event.subject_ref, "outcome": str(event.outcome), "reason": event.reason,
            "purpose": event.purpose or purpose, "legal_basis": event.legal_basis or basis,
            "retention_class": event.retention_class or retention, "details": _json_safe(dict(event.details))}


def _json_safe(value):
    """Ids such as post ids exceed JSON's exact integer range (2**53): they are identifiers, so the
    canonical entry carries them as strings rather than refusing the event."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2 ** 53 else str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


async def list_entries(session: AsyncSession, action: Action | None = None, limit: int = 100):
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEntry.action == str(action))
    return list((await session.scalars(query)).all())
