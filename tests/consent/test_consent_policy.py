"""The consent policy for a reply: stored when the author may be stored for and the note is new; an
objection, an erasure, or the note stored already (for them or someone else) each say why not."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from consent.models import Subject
from consent.policy import ReplyCase, Standing, Verdict, decide

NOW = datetime(2026, 12, 4, tzinfo=timezone.utc)


@pytest.mark.parametrize("case, verdict", [
    (ReplyCase(Standing.NEW, None, None), Verdict.STORE),
    (ReplyCase(Standing.KNOWN, 7, None), Verdict.STORE),
    (ReplyCase(Standing.KNOWN, 7, 7), Verdict.ALREADY_STORED),
    (ReplyCase(Standing.KNOWN, 7, 8), Verdict.NOT_AUTHOR),
    (ReplyCase(Standing.NEW, None, 8), Verdict.NOT_AUTHOR),  # someone new cannot own a stored note
    (ReplyCase(Standing.OBJECTED, 7, None), Verdict.SUBJECT_OBJECTED),
    (ReplyCase(Standing.OBJECTED, 7, 7), Verdict.SUBJECT_OBJECTED),  # the objection comes first
    (ReplyCase(Standing.ERASED, 7, None), Verdict.SUBJECT_ERASED),
    (ReplyCase(Standing.ERASED, 7, 8), Verdict.SUBJECT_ERASED),
])
def test_decide(case, verdict):
    assert decide(case) is verdict
    assert verdict.description


def test_every_verdict_has_a_description():
    assert all(v.description and v.description != str(v) for v in Verdict)


@pytest.mark.parametrize("subject, standing", [
    (None, Standing.NEW),
    (Subject(kind="fediverse", pseudonym="p", wrapped_key=b"k"), Standing.KNOWN),
    (Subject(kind="fediverse", pseudonym="p", wrapped_key=b"k", objected_at=NOW), Standing.OBJECTED),
    (Subject(kind="fediverse", pseudonym="p", wrapped_key=None), Standing.ERASED),
    (Subject(kind="fediverse", pseudonym="p", wrapped_key=None, objected_at=NOW), Standing.OBJECTED),
])
def test_the_standing_of_an_author_as_the_consent_store_knows_them(subject, standing):
    assert Standing.of(subject) is standing
