"""Inbox benchmark: signed Create(Note) replies verified and stored per second by one server process.

    .venv/bin/python tests/bench/bench_inbox.py [--replies 3000] [--concurrency 32] [--rate N] [--db URL]

The server is a real `stadtbote serve --no-worker` process; the sender (a fake Mastodon with 50 accounts
that signs like Mastodon) is another process. Each account's first reply takes the general path (its actor
is fetched); the rest are written in batches. Prints replies stored per second and, measured in the same
run: this machine's single-core RSA-2048 verification rate, bleach's sanitising rate for such a reply
(a cost every stored reply pays), and what an empty aiohttp inbox answers under the same load (the
ceiling of the HTTP stack in one process).

By default the sender keeps CONCURRENCY requests in flight (a closed load). `--rate N` sends N replies per
second whatever the answers (an open load, as a thread going viral brings them, with at most CONCURRENCY
in flight): the server keeps up with N when it stores N per second and the answer times stay flat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from activitypub.sanitize import sanitize_html  # noqa: E402
from activitypub.uris import Uris  # noqa: E402
from bridge.publishing import posts  # noqa: E402
from bridge.cli.bootstrap import bootstrap  # noqa: E402
from bridge.store.db import create_engine, create_sessionmaker  # noqa: E402
from bridge.store.models import Role  # noqa: E402
from bridge.config.load import load_config  # noqa: E402
from bridge.auth.users import create_user  # noqa: E402
from consent.models import Reply  # noqa: E402


def verify_rate(seconds: float = 2.0) -> float:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"x" * 200
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    public, n, start = key.public_key(), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        n += 1
    return n / (time.perf_counter() - start)


def sanitize_rate(seconds: float = 1.0) -> float:
    """bleach with Mastodon's allow-list on a reply as Mastodon sends it: a floor every stored reply pays."""
    content = ('<p><span class="h-card" translate="no"><a href="https://city.example/users/stadt" '
               'class="u-url mention">@<span>stadt</span></a></span> Antwort 17</p>')
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        sanitize_html(content)
        n += 1
    return n / (time.perf_counter() - start)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux; 0 elsewhere): steadier than wall time here."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def prepare(config) -> int:
    engine = create_engine(config.database.url)
    sessions = create_sessionmaker(engine)
    await bootstrap(engine, sessions, config)
    async with sessions.begin() as session:
        user, _ = await create_user(session, "bench", Role.EDITOR, ["stadt"])
        result = await posts.create_post(session, config, user, posts.Draft("stadt", "Wie gefällt Ihnen der Park?"))
    await engine.dispose()
    return result.post.id


async def stored(config) -> int:
    engine = create_engine(config.database.url)
    async with create_sessionmaker(engine)() as session:
        n = await session.scalar(select(func.count()).select_from(Reply))
    await engine.dispose()
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--actors", type=int, default=50)
    parser.add_argument("--rate", type=int, default=0, help="open load: replies started per second")
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    folder, port = Path(tempfile.mkdtemp(prefix="stadtbote-inbox-")), free_port()
    db_url = args.db or f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    (folder / "config.toml").write_text(f"""
[instance]
base_url = "http://127.0.0.1:{port}"
name = "Benchmark"
listen = "127.0.0.1:{port}"
[database]
url = "{db_url}"
[federation]
allow_private_addresses = true
[[actors]]
name = "stadt"
""")
    config = load_config(folder / "config.toml")
    post_id = asyncio.run(prepare(config))
    uris = Uris.for_base(config.instance.base_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # e.g. STADTBOTE_BENCH_PROFILER="pyinstrument -r text -o out.txt" runs the server under a profiler
    python = os.environ.get("STADTBOTE_BENCH_PROFILER", "").split() or [sys.executable]
    server = subprocess.Popen([*python, "-m", "bridge", "serve", "--no-worker", "--config",
                               str(folder / "config.toml")], stdout=subprocess.PIPE,
                              stderr=(folder / "server.log").open("w"),
                              text=True, env=env)
    while "is listening" not in server.stdout.readline():
        pass
    try:
        reference, sanitizing = verify_rate(), sanitize_rate()
        cpu_before = cpu_seconds(server.pid)
        result = run_load(uris.shared_inbox(), uris.note("stadt", str(post_id)), args, env, args.rate)
        cpu_used = cpu_seconds(server.pid) - cpu_before
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    elapsed = result["elapsed"]
    empty_port = free_port()
    empty = subprocess.Popen([sys.executable, str(ROOT / "tests/bench/empty_inbox.py"), str(empty_port)],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        while "is listening" not in empty.stdout.readline():
            pass
        ceiling = run_load(f"http://127.0.0.1:{empty_port}/inbox", uris.note("stadt", str(post_id)),
                           args, env, 0)["elapsed"]
    finally:
        empty.terminate()
        empty.wait(timeout=30)
    count = asyncio.run(stored(config))
    load = (f"open load of {args.rate}/s, at most {args.concurrency} in flight" if args.rate
            else f"closed load, {args.concurrency} in flight")
    print(f"replies sent: {args.replies} from {args.actors} accounts, {load}, "
          f"database: {'postgresql' if args.db else 'sqlite'}")
    answers = " ".join(f"{status}:{n}" for status, n in result["statuses"].items())
    print(f"answers: {answers}; replies stored: {count}; answered within "
          f"{result['p50'] * 1000:.0f} ms (median), {result['p99'] * 1000:.0f} ms (99th percentile)")
    print(f"replies verified and stored per second (one server process): {count / elapsed:.0f} (target >= 1500)")
    if args.rate:  # an open load cannot be stored faster than it is offered: what matters is keeping up
        print(f"of the offered {args.rate}/s: {count / elapsed / args.rate:.0%} (below ~97 % the server fell behind: "
              f"answer times grow with the queue)")
    if cpu_used > 0:
        print(f"server CPU per stored reply: {cpu_used / count * 1000:.2f} ms "
              f"({cpu_used / elapsed:.0%} of one core while the load ran)")
    print(f"RSA-2048 verifications/s on one core (reference, same run): {reference:.0f}")
    print(f"replies sanitised per second by bleach alone, one core (reference, same run): {sanitizing:.0f}")
    print(f"an empty aiohttp inbox under the same load (ceiling of the HTTP stack, same run): "
          f"{args.replies / ceiling:.0f}/s; the inbox reaches {elapsed and ceiling / elapsed:.0%} of it")


def run_load(target: str, in_reply_to: str, args, env, rate: int) -> dict:
    """Pre-signs the replies in the load process, then sends them; its result (elapsed, statuses, p50, p99)."""
    load = subprocess.Popen([sys.executable, str(ROOT / "tests/bench/inbox_load.py"), target, in_reply_to,
                             str(args.replies), str(args.concurrency), str(args.actors), str(rate)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert load.stdout.readline().strip() == "ready"
        load.stdin.write("go\n")
        load.stdin.flush()
        return json.loads(load.stdout.readline())
    finally:
        load.terminate()


if __name__ == "__main__":
    main()
