"""`stadtbote serve` with video on refuses to start, in one line, where ffmpeg is not installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from testkit import write_config

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])}


def test_video_without_ffmpeg_stops_the_start_with_one_line(tmp_path, empty_db_url):
    config = write_config(tmp_path, empty_db_url, extra="\n[limits]\nvideo = true\n")
    empty = tmp_path / "bin"  # a PATH without ffmpeg, as on a server where it was never installed
    empty.mkdir()
    env = {**ENV, "PATH": str(empty)}
    subprocess.run([sys.executable, "-m", "bridge", "db", "upgrade", "--config", str(config)], env=ENV, check=True,
                   capture_output=True)
    result = subprocess.run([sys.executable, "-m", "bridge", "serve", "--config", str(config)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "ffmpeg" in lines[0] and "apt-get install ffmpeg" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
