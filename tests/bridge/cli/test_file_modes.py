"""Private files on disk: a first start under the common umask 022 makes the data dir 0700 and the SQLite
database (every account's private key), its journal and the instance secret 0600; a start that finds one
looser says so in one line naming the path and the mode, and nothing of what the file holds."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.store.db import create_engine
from testkit import write_config

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])}
pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def umask_022() -> None:
    os.umask(0o022)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sqlite_config(tmp_path: Path, port: int = 8080) -> Path:
    return write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'data' / 'stadtbote.sqlite3'}", port)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bridge", *args], capture_output=True, text=True, env=ENV,
                          preexec_fn=umask_022, timeout=120)


def serve_until_listening(config: Path) -> str:
    """Starts `serve` under umask 022, waits for its ready line, stops it; returns what it logged."""
    proc = subprocess.Popen([sys.executable, "-m", "bridge", "serve", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            preexec_fn=umask_022)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "is listening" in line or not line and proc.poll() is not None:
                break
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "is listening" in line, err
    return err


def test_a_first_start_makes_everything_private_whatever_the_umask(tmp_path):
    err = serve_until_listening(sqlite_config(tmp_path, free_port()))
    data = tmp_path / "data"
    assert mode(data) == 0o700
    assert mode(data / "stadtbote.sqlite3") == 0o600
    assert mode(data / "instance.secret") == 0o600
    for journal in ("stadtbote.sqlite3-wal", "stadtbote.sqlite3-shm"):
        if (data / journal).exists():
            assert mode(data / journal) == 0o600, journal
    assert "has mode" not in err


def test_a_start_warns_once_per_loose_file_with_path_and_mode_and_no_secret(tmp_path):
    config = sqlite_config(tmp_path)
    assert cli("db", "upgrade", "--config", str(config)).returncode == 0
    data = tmp_path / "data"
    secret = data / "instance.secret"
    secret.write_text("ab" * 32)
    os.chmod(data, 0o755)
    os.chmod(data / "stadtbote.sqlite3", 0o644)
    os.chmod(secret, 0o640)
    done = cli("db", "upgrade", "--config", str(config))
    assert done.returncode == 0
    warnings = [line for line in done.stderr.splitlines() if "has mode" in line]
    assert len(warnings) == 3, done.stderr
    assert any(f"{data} has mode 0755" in w and "chmod 700" in w for w in warnings)
    assert any(f"{data / 'stadtbote.sqlite3'} has mode 0644" in w and "chmod 600" in w for w in warnings)
    assert any(f"{secret} has mode 0640" in w for w in warnings)
    assert "ab" * 32 not in done.stderr
    assert mode(data) == 0o755  # warned about, not changed behind the administrator's back


async def test_the_engine_creates_a_new_database_file_0600(tmp_path):
    path = tmp_path / "new.sqlite3"
    old = os.umask(0o022)
    try:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        await engine.dispose()
    finally:
        os.umask(old)
    assert mode(path) == 0o600
