"""Audit entries and log lines for inbound activities: pseudonyms, domains and reason codes only."""

from __future__ import annotations

from typing import Any

from activitypub.normalize import type_of
from bridge.inbound.effects import Handled
from consent.audit import Event, Outcome

KNOWN_TYPES = frozenset({"Follow", "Undo", "Create", "Update", "Delete", "Like", "EmojiReact", "Announce", "Flag",
                         "QuoteRequest", "Accept", "Reject", "Move", "Add", "Remove", "Block"})


def type_label(document: dict[str, Any]) -> str:
    kind = type_of(document)
    return kind if kind in KNOWN_TYPES else "other"  # never echo a sender's free text into the log


def event_for(handled: Handled, document: dict[str, Any], domain: str) -> Event:
    subject = handled.subject
    reference = subject.pseudonym if subject is not None else f"domain:{domain}"[:80]
    return Event(handled.effect.action, "remote", reference, Outcome.OK,
                 subject_ref=subject.pseudonym if subject is not None else None, reason=str(handled.effect),
                 purpose="federation", details={"type": type_label(document), "domain": domain, **handled.details})
