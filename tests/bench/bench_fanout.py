"""Fan-out benchmark: one post to N distinct inboxes on local fake servers.

    .venv/bin/python tests/bench/bench_fanout.py [--inboxes 5000] [--workers 1] [--db URL] [--signing-processes 1]

Prints deliveries per second per worker process and this machine's single-core RSA-2048 signing rate
measured in the same run, before and after the fan-out, the better of the two (every delivery is one
signature, so that rate is the ceiling), and their ratio.
Workers are real `stadtbote worker` processes; receivers (light HTTP sinks, see receivers.py) run in
another process. Also prints the CPU seconds used by the workers and the receivers, and takes
`--wrap` to run each worker under a profiler.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bridge.publishing import posts  # noqa: E402
from bridge.cli.bootstrap import bootstrap  # noqa: E402
from bridge.store.db import create_engine, create_sessionmaker  # noqa: E402
from bridge.store.models import Job, JobState, Role  # noqa: E402
from bridge.runtime.secrets import load_or_create_secret  # noqa: E402
from bridge.config.load import load_config  # noqa: E402
from bridge.auth.users import create_user  # noqa: E402
from consent.followers import add_follower  # noqa: E402
from consent.subjects import ActorFacts, remember_actor  # noqa: E402
from consent.vault import Vault  # noqa: E402


def signing_rate(seconds: float = 2.0) -> float:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message, n, start = b"x" * 200, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        n += 1
    return n / (time.perf_counter() - start)


def write_config(folder: Path, db_url: str, signing_processes: int = 1) -> Path:
    path = folder / "config.toml"
    path.write_text(f"""
[instance]
base_url = "http://127.0.0.1:9"
name = "Benchmark"
listen = "127.0.0.1:0"
data_dir = "data"
[database]
url = "{db_url}"
[federation]
allow_private_addresses = true
signing_processes = {signing_processes}
[[actors]]
name = "stadt"
""")
    return path


async def prepare(config, ports: list[int], inboxes: int) -> None:
    engine = create_engine(config.database.url)
    sessions = create_sessionmaker(engine)
    await bootstrap(engine, sessions, config)
    vault = Vault.from_secret(load_or_create_secret(config.instance.data_dir))
    async with sessions.begin() as session:
        for i in range(inboxes):
            port = ports[i % len(ports)]
            uri = f"http://127.0.0.1:{port}/users/u{i}"
            subject = await remember_actor(session, vault, ActorFacts(uri=uri, inbox=f"{uri}/inbox"))
            await add_follower(session, vault, subject, "stadt", f"{uri}#follow")
        user, _ = await create_user(session, "bench", Role.EDITOR, ["stadt"])
    async with sessions.begin() as session:
        result = await posts.create_post(session, config, user, posts.Draft("stadt", "Benchmark #fanout"))
        assert result.ok
    await engine.dispose()


async def watch(config) -> tuple[int, float]:
    """Polls (one connection, 4 times a second) until every delivery job is done; returns their number
    and the seconds from the fan-out creating them to the last one finishing."""
    engine = create_engine(config.database.url)
    try:
        while True:
            await asyncio.sleep(0.25)
            async with create_sessionmaker(engine)() as session:
                rows = dict((await session.execute(select(Job.state, func.count()).where(Job.kind == "deliver")
                                                   .group_by(Job.state))).all())
                total = sum(rows.values())
                if not total or rows.get(JobState.DONE, 0) < total:
                    continue
                first, last = (await session.execute(select(func.min(Job.created_at), func.max(Job.finished_at))
                                                     .where(Job.kind == "deliver"))).one()
                return total, (last - first).total_seconds()
    finally:
        await engine.dispose()


def run(args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="stadtbote-bench-"))
    db_url = args.db or f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    config = load_config(write_config(folder, db_url, args.signing_processes))
    receivers = subprocess.Popen([sys.executable, str(ROOT / "tests/bench/receivers.py"), str(args.hosts)],
                                 stdout=subprocess.PIPE, text=True)
    ports = [int(line) for line in iter(receivers.stdout.readline, "ready\n")]
    asyncio.run(prepare(config, ports, args.inboxes))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    workers = [subprocess.Popen([*(shlex.split(args.wrap.format(n=n)) if args.wrap else []), sys.executable,
                                 "-m", "bridge", "worker", "--config", str(folder / "config.toml")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
               for n in range(args.workers)]
    try:
        total, window = asyncio.run(watch(config))
        elapsed = time.perf_counter() - start
    finally:
        for w in workers:  # a profiler (--wrap) writes its report on SIGINT, not on SIGTERM
            w.send_signal(signal.SIGINT if args.wrap else signal.SIGTERM)
        worker_cpu = sum(_cpu_seconds(w) for w in workers)
        counts = json.load(urlopen(f"http://127.0.0.1:{ports[0]}/count"))
        receivers.terminate()
        receivers.wait()
    return {"deliveries": total, "received": counts["n"], "seconds": window, "wall": elapsed,
            "worker_cpu": worker_cpu, "receiver_cpu": counts["cpu"], "connections": counts["connections"]}


def _cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU seconds of a child process, once it has ended (start-up included)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inboxes", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--hosts", type=int, default=25, help="receiving servers (ports)")
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--signing-processes", type=int, default=1,
                        help="federation.signing_processes of each worker (0: each worker signs on its own core)")
    parser.add_argument("--wrap", help="prefix for each worker's command line, {n} is its number; for profiling, "
                                       "e.g. 'py-spy record -o /tmp/worker{n}.svg --'")
    args = parser.parse_args()
    before = signing_rate()
    result = run(args)
    after = signing_rate()
    rate = max(before, after)  # the machine is shared: the better of the two is its single-core rate
    per_worker = result["deliveries"] / result["seconds"] / args.workers
    print(f"inboxes: {args.inboxes}  workers: {args.workers}  signing processes per worker: {args.signing_processes}  "
          f"database: {'postgresql' if args.db else 'sqlite'}")
    print(f"delivered: {result['deliveries']} jobs, {result['received']} POSTs received over "
          f"{result['connections']} connections, in {result['seconds']:.1f} s from fan-out to the last delivery "
          f"({result['wall']:.1f} s with worker start-up)")
    print(f"CPU seconds: workers {result['worker_cpu']:.1f} (start-up included), "
          f"receivers {result['receiver_cpu']:.1f}")
    print(f"deliveries/s per worker process: {per_worker:.0f}")
    print(f"RSA-2048 signatures/s on one core (reference, same run): {rate:.0f} "
          f"(best of {before:.0f} before and {after:.0f} after)")
    print(f"ratio: {per_worker / rate:.1%} of the signing rate per worker (target >= 60%)")


if __name__ == "__main__":
    main()
