"""WebVTT captions for a video: checked line by line against the WebVTT spec's file structure, so an editor
learns which line is wrong before readers see broken or missing captions (BITV 2.0 / WCAG 1.2.2)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

MAX_CAPTION_BYTES = 1024 * 1024
MIME_TYPE, EXTENSION = "text/vtt", "vtt"
# hh:mm:ss.ttt or mm:ss.ttt (hours optional, at least two digits; minutes and seconds below 60).
TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
TIMING = re.compile(rf"^{TIMESTAMP}[ \t]+-->[ \t]+{TIMESTAMP}(?:[ \t]+.*)?$")


class CaptionReason(enum.StrEnum):
    OK = "ok"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_TEXT = "not_text"
    NO_HEADER = "no_header"
    BAD_TIMING = "bad_timing"
    END_BEFORE_START = "end_before_start"
    NO_CUES = "no_cues"

    @property
    def description(self) -> str:
        return CAPTION_TEXT[self]


CAPTION_TEXT = {
    CaptionReason.OK: "captions accepted",
    CaptionReason.EMPTY: "the captions file is empty",
    CaptionReason.TOO_LARGE: "the captions file is larger than 1 MB",
    CaptionReason.NOT_TEXT: "the captions file is not UTF-8 text",
    CaptionReason.NO_HEADER: "a WebVTT file starts with the line WEBVTT",
    CaptionReason.BAD_TIMING: "a cue timing line must look like 00:00:01.000 --> 00:00:04.000",
    CaptionReason.END_BEFORE_START: "a cue ends before it starts",
    CaptionReason.NO_CUES: "the captions file has no cues",
}


@dataclass(frozen=True)
class CheckedCaptions:
    reason: CaptionReason
    line: int = 0  # 1-based line of the problem, 0 when it concerns the whole file
    text: str = ""  # the normalised file (UTF-8, LF line ends), ready to store
    cues: int = 0

    @property
    def ok(self) -> bool:
        return self.reason is CaptionReason.OK

    @property
    def description(self) -> str:
        return self.reason.description


def _milliseconds(h: str | None, m: str, s: str, ms: str) -> int:
    return ((int(h or 0) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)


def check_captions(raw: bytes) -> CheckedCaptions:
    if not raw.strip():
        return CheckedCaptions(CaptionReason.EMPTY)
    if len(raw) > MAX_CAPTION_BYTES:
        return CheckedCaptions(CaptionReason.TOO_LARGE)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return CheckedCaptions(CaptionReason.NOT_TEXT)
    if "\x00" in text:
        return CheckedCaptions(CaptionReason.NOT_TEXT)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # "WEBVTT" alone or followed by a space or tab and a title.
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        return CheckedCaptions(CaptionReason.NO_HEADER, 1)
    # The header block runs to the first blank line; then blocks separated by blank lines.
    i = 1
    while i < len(lines) and lines[i].strip():
        i += 1
    cues = 0
    while i < len(lines):
        block_start = i
        while block_start < len(lines) and not lines[block_start].strip():
            block_start += 1
        if block_start >= len(lines):
            break
        block_end = block_start
        while block_end < len(lines) and lines[block_end].strip():
            block_end += 1
        block = lines[block_start:block_end]
        first = block[0]
        if first.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in first:
            i = block_end
            continue
        # A cue: an optional identifier line, then the timing line.
        timing_index = 0 if "-->" in first else 1
        if timing_index >= len(block):
            return CheckedCaptions(CaptionReason.BAD_TIMING, block_start + 1)
        match = TIMING.match(block[timing_index].strip())
        if match is None:
            return CheckedCaptions(CaptionReason.BAD_TIMING, block_start + timing_index + 1)
        g = match.groups()
        if _milliseconds(*g[4:8]) < _milliseconds(*g[0:4]):
            return CheckedCaptions(CaptionReason.END_BEFORE_START, block_start + timing_index + 1)
        cues += 1
        i = block_end
    if not cues:
        return CheckedCaptions(CaptionReason.NO_CUES)
    return CheckedCaptions(CaptionReason.OK, text="\n".join(lines), cues=cues)
