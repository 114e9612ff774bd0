"""Short real video files made by Debian's ffmpeg from its test sources, for upload tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CAPTIONS = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nGuten Tag aus dem Rathaus.\n"


def make_clip(path: Path, *args: str, seconds: float = 2) -> bytes:
    """A clip with a title and a location tag, both of which the server must strip."""
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg; scripts/test.sh and .ci/run do)")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size=320x240:rate=10:duration={seconds}", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}", "-shortest",
                    "-metadata", "title=Geheimer Titel", "-metadata", "location=+52.5200+013.4050/",
                    *args, str(path)], check=True)
    return path.read_bytes()


def mp4_clip(folder: Path, seconds: float = 2) -> bytes:
    return make_clip(folder / "clip.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", seconds=seconds)


def webm_clip(folder: Path) -> bytes:
    return make_clip(folder / "clip.webm", "-c:v", "libvpx", "-b:v", "200k", "-c:a", "libvorbis")


def ffmpeg_children() -> int:
    """ffmpeg/ffprobe processes started by this test process right now (from /proc)."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            name, ppid = fields[0].split("(", 1)[1], int(fields[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        count += ppid == os.getpid() and name in ("ffmpeg", "ffprobe")
    return count
