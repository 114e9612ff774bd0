"""The consent policy for a reply from the fediverse: may we store it for moderation?

One rule for the inbox's two paths — the general one that takes a request at a time and the batching
writer — so that both give the same rows and answers. The caller finds the reply's post and the author;
`decide` says, from what the consent store knows of the author and of the note, whether it is stored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from consent.models import Subject


class Standing(enum.StrEnum):
    """The author as the consent store knows them."""

    NEW = "new"  # no subject of any kind yet: one is made when the reply is stored
    KNOWN = "known"
    OBJECTED = "objected"  # Art. 21: nothing new of theirs is kept
    ERASED = "erased"  # their key is destroyed: nothing can be stored for them

    @classmethod
    def of(cls, subject: Subject | None) -> Standing:
        if subject is None:
            return cls.NEW
        if subject.objected_at is not None:
            return cls.OBJECTED
        return cls.ERASED if subject.wrapped_key is None else cls.KNOWN


class Verdict(enum.StrEnum):
    STORE = "store"
    ALREADY_STORED = "already_stored"
    NOT_AUTHOR = "not_author"
    SUBJECT_OBJECTED = "subject_objected"
    SUBJECT_ERASED = "subject_erased"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Verdict.STORE: "a new reply by someone we may store for: kept for moderation",
    Verdict.ALREADY_STORED: "the author's reply is stored already; nothing changes",
    Verdict.NOT_AUTHOR: "a reply with this id is stored for someone else",
    Verdict.SUBJECT_OBJECTED: "the author objected (Art. 21 GDPR): nothing new of theirs is kept",
    Verdict.SUBJECT_ERASED: "the author was erased: nothing is stored for them",
}


@dataclass(frozen=True)
class ReplyCase:
    author: Standing
    author_id: int | None  # the author's subject id; None for someone new
    stored_for: int | None  # the subject a reply with this note id is stored for, if one is


def decide(case: ReplyCase) -> Verdict:
    """Whether a reply to one of our posts (or threads) is stored."""
    if case.author is Standing.OBJECTED:
        return Verdict.SUBJECT_OBJECTED
    if case.author is Standing.ERASED:
        return Verdict.SUBJECT_ERASED
    if case.stored_for is not None:
        return Verdict.ALREADY_STORED if case.stored_for == case.author_id else Verdict.NOT_AUTHOR
    return Verdict.STORE
