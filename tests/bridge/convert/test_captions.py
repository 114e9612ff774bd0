"""WebVTT captions: the spec's file structure is checked and a problem is reported with its line."""

from __future__ import annotations

import pytest

from bridge.convert.captions import CaptionReason, check_captions

GOOD = """WEBVTT - Bürgersprechstunde

NOTE made by the press office

1
00:00:00.000 --> 00:00:02.500 line:90%
Guten Tag aus dem Rathaus.

00:02.500 --> 00:04.000
Heute: die neue Bibliothek.
"""


def test_a_valid_file_is_accepted_with_its_cues():
    checked = check_captions(GOOD.encode())
    assert checked.ok and checked.cues == 2


def test_windows_line_ends_and_a_byte_order_mark_are_accepted():
    checked = check_captions(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    assert checked.ok and "\r" not in checked.text


@pytest.mark.parametrize("text, reason, line", [
    ("1\n00:00:00.000 --> 00:00:01.000\nHallo\n", CaptionReason.NO_HEADER, 1),
    ("WEBVTT\n\n00:00:00,000 --> 00:00:01,000\nSRT-Kommas\n", CaptionReason.BAD_TIMING, 3),
    ("WEBVTT\n\n1\n00:00:00.000 -> 00:00:01.000\nHallo\n", CaptionReason.BAD_TIMING, 4),
    ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA\n\n00:00:05.000 --> 00:00:04.000\nB\n",
     CaptionReason.END_BEFORE_START, 6),
    ("WEBVTT\n\n00:61:00.000 --> 00:62:00.000\nA\n", CaptionReason.BAD_TIMING, 3),
    ("WEBVTT\n\nNOTE nur eine Notiz\n", CaptionReason.NO_CUES, 0),
    ("WEBVTTX\n\n00:00:00.000 --> 00:00:01.000\nA\n", CaptionReason.NO_HEADER, 1),
])
def test_a_broken_file_names_the_line(text, reason, line):
    checked = check_captions(text.encode())
    assert (checked.reason, checked.line) == (reason, line)


@pytest.mark.parametrize("raw, reason", [(b"", CaptionReason.EMPTY), (b"WEBVTT\n\xff\xfe", CaptionReason.NOT_TEXT),
                                         (b"WEBVTT\n\x00", CaptionReason.NOT_TEXT),
                                         (b"WEBVTT\n" + b"a" * (1024 * 1024), CaptionReason.TOO_LARGE)])
def test_what_is_no_captions_file_is_refused(raw, reason):
    assert check_captions(raw).reason is reason
