"""The `stadtbote` command as an administrator uses it: real processes, real databases."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import func, select

from bridge.cli.main import main
from bridge.store.db import create_engine, create_sessionmaker
from bridge.store.models import Actor, ApiToken, Job, Post, PostState, User
from bridge.publishing.posts import PUBLISH_JOB
from testkit import write_config

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bridge", "serve", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


def read_until(proc: subprocess.Popen, marker: str, timeout: float = 60) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    proc.kill()
    raise AssertionError(f"{marker!r} not printed; got {lines} / {proc.stderr.read()}")


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


async def count(url: str, model) -> int:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        n = await session.scalar(select(func.count()).select_from(model))
    await engine.dispose()
    return n


def test_first_serve_creates_everything_once_and_later_starts_change_nothing(tmp_path, empty_db_url):
    port = free_port()
    config = write_config(tmp_path, empty_db_url, port)
    proc = start_serve(config)
    lines = read_until(proc, "is listening")
    # uvloop is a dependency wherever it has a build (not on Windows): the server must run on it there
    expected_loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert lines[-1].endswith(f"; event loop {expected_loop}"), lines[-1]
    passwords = [l for l in lines if l.startswith("Initial admin password: ")]
    assert len(passwords) == 1 and len(passwords[0].split(": ", 1)[1]) >= 16

    async def fetch():
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/static/style.css") as resp:
                return resp.status, resp.headers.get("Set-Cookie")
    status, cookie = asyncio.run(fetch())
    assert status == 200 and cookie is None
    err = stop(proc)
    assert "Applied migration 0001" in err and "Created account @stadt" in err
    assert asyncio.run(count(empty_db_url, User)) == 1
    keys = asyncio.run(_public_keys(empty_db_url))
    assert set(keys) == {"stadt", "feuerwehr", "instance.actor"} and all("BEGIN PUBLIC KEY" in k for k in keys.values())

    proc = start_serve(config)
    lines = read_until(proc, "is listening")
    err = stop(proc)
    assert not any("password" in l.lower() for l in lines) and "Applied migration" not in err
    assert asyncio.run(count(empty_db_url, User)) == 1
    assert asyncio.run(_public_keys(empty_db_url)) == keys


async def _public_keys(url: str) -> dict[str, str]:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        rows = (await session.execute(select(Actor.name, Actor.public_key_pem))).all()
    await engine.dispose()
    return dict(rows)


def run_cli(capsys, *argv) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.strip().splitlines(), err


@pytest.fixture
def cli_config(tmp_path, empty_db_url):
    return str(write_config(tmp_path, empty_db_url))


def test_db_upgrade_then_users_tokens_and_posts(capsys, cli_config, tmp_path, empty_db_url):
    code, out, _ = run_cli(capsys, "db", "upgrade", "--config", cli_config)
    assert code == 0 and out[0].startswith("Initial admin password: ")
    code, out, _ = run_cli(capsys, "db", "upgrade", "--config", cli_config)
    assert code == 0 and out == ["Database schema is up to date"]

    code, out, _ = run_cli(capsys, "user", "add", "erika", "--role", "editor", "--actor", "stadt",
                           "--config", cli_config)
    assert code == 0 and len(out[-1]) >= 16
    code, out, _ = run_cli(capsys, "user", "list", "--config", cli_config)
    assert out == ["admin\tadmin\tactive\t-", "erika\teditor\tactive\tstadt"]

    code, out, _ = run_cli(capsys, "token", "create", "--user", "erika", "--actor", "stadt", "--config", cli_config)
    assert code == 0 and len(out[-1]) > 30
    code, _, err = run_cli(capsys, "token", "create", "--user", "erika", "--actor", "feuerwehr",
                           "--config", cli_config)
    assert code == 1 and err.strip() == "stadtbote: the user may not post as this account"

    image = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), "blue").save(image)
    code, out, _ = run_cli(capsys, "post", "--actor", "stadt", "--text", "Freibad öffnet #Sommer",
                           "--image", str(image), "--alt", "Ein leeres Becken", "--user", "erika",
                           "--config", cli_config)
    assert code == 0 and out[-1].startswith("http://127.0.0.1:8080/@stadt/")
    post_id = int(out[-1].rsplit("/", 1)[1])
    post = asyncio.run(_post(empty_db_url, post_id))
    assert post.state == PostState.PUBLISHED and post.media[0].alt == "Ein leeres Becken"

    next_year = datetime.now(timezone.utc).year + 1  # a schedule may lie at most two years ahead
    code, out, _ = run_cli(capsys, "post", "--actor", "stadt", "--text", "Später", "--at", f"{next_year}-05-01T09:00",
                           "--user", "erika", "--config", cli_config)
    later = asyncio.run(_post(empty_db_url, int(out[-1].rsplit("/", 1)[1])))
    assert later.state == PostState.SCHEDULED and later.scheduled_at.isoformat() == f"{next_year}-05-01T07:00:00+00:00"
    assert asyncio.run(_publish_jobs(empty_db_url)) == [later.id]

    code, out, _ = run_cli(capsys, "user", "reset-second-factor", "erika", "--config", cli_config)
    assert code == 0 and out == ["Second factor of erika removed; they set it up again at the next sign-in if their "
                                 "role requires it"]
    code, _, err = run_cli(capsys, "user", "disable", "erika", "--config", cli_config)
    assert code == 0
    code, _, err = run_cli(capsys, "post", "--actor", "stadt", "--text", "x", "--user", "erika",
                           "--config", cli_config)
    assert code == 1 and "may not post" in err


async def _publish_jobs(url: str) -> list[int]:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        ids = (await session.scalars(select(Job.post_id).where(Job.kind == PUBLISH_JOB))).all()
    await engine.dispose()
    return list(ids)


async def _post(url: str, post_id: int) -> Post:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        post = await session.get(Post, post_id)
    await engine.dispose()
    return post


@pytest.mark.parametrize("argv, message", [
    (["post", "--actor", "stadt", "--text", "x", "--image", "/nonexistent.png", "--alt", "a"], "--image"),
    (["post", "--actor", "stadt", "--text", "x", "--image", "/nonexistent.png"], "give one --alt"),
    (["post", "--actor", "nobody", "--text", "x"], "--actor nobody: no such account (accounts: "),
    (["post", "--actor", "stadt", "--text", "x", "--at", "tomorrow"], "not an ISO-8601 time"),
    (["post", "--actor", "stadt", "--text", "x", "--at", "2001-01-01T00:00"], "must be in the future"),
    (["post", "--actor", "stadt", "--text", "x", "--mirror", "bsky"], "no such platform"),
    (["post", "--actor", "stadt", "--text", "x", "--user", "ghost"], "no user named 'ghost'"),
    (["user", "add", "Bad Name", "--role", "editor"], "user names use"),
    (["user", "add", "ed", "--role", "editor", "--actor", "nobody"], "no such account"),
    (["user", "disable", "ghost"], "no user named"),
    (["user", "reset-second-factor", "ghost"], "no user named"),
    (["token", "revoke", "999"], "no token with id 999"),
])
def test_cli_errors_are_one_line_with_exit_1(capsys, cli_config, argv, message):
    assert main(["db", "upgrade", "--config", cli_config]) == 0
    capsys.readouterr()
    code, _, err = run_cli(capsys, *argv, "--config", cli_config)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


def test_unreachable_database_is_one_line(capsys, tmp_path):
    config = write_config(tmp_path, "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    code, _, err = run_cli(capsys, "user", "list", "--config", str(config))
    assert code == 1 and err.strip().startswith("stadtbote: cannot reach the database")


def test_help_lists_the_verbs():
    done = subprocess.run([sys.executable, "-m", "bridge", "--help"], capture_output=True, text=True, env=ENV)
    for verb in ("serve", "worker", "db", "user", "post", "token", "audit", "subject", "retention", "register"):
        assert f"\n    {verb}" in done.stdout
    audit = subprocess.run([sys.executable, "-m", "bridge", "audit", "--help"], capture_output=True, text=True, env=ENV)
    assert all(f"\n    {action}" in audit.stdout for action in ("pubkey", "export", "verify", "checkpoint"))
