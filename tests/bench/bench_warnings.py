"""Warning benchmark: a new warning at a fake CAP source, delivered to N follower inboxes, with a routine
N-inbox fan-out already queued, against the same warning alone.

    .venv/bin/python tests/bench/bench_warnings.py [--inboxes 5000] [--rounds 3] [--timeline]

Each run starts from a fresh SQLite database with N followers (own inboxes, on light HTTP sinks in another
process, see receivers.py) and a real `stadtbote worker` process with a `[[warnings]]` source of kind "cap"
whose document a local file server serves. At t0 the warning's CAP document appears at the source and a poll
is due (as when the interval has just passed); the time measured runs from t0 to the last of the warning's
N `Create` deliveries. In the second run an ordinary post's fan-out has already queued its N deliveries at
t0. The two runs alternate `--rounds` times; prints the times and the ratio of their medians (target <= 1.3:
the priority lane lets the warning overtake).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import bench_fanout  # noqa: E402  (beside this file)
from bridge.cli.bootstrap import bootstrap  # noqa: E402
from bridge.config.load import load_config  # noqa: E402
from bridge.publishing import posts  # noqa: E402
from bridge.queue import jobs  # noqa: E402
from bridge.runtime.secrets import load_or_create_secret  # noqa: E402
from bridge.store.db import create_engine, create_sessionmaker  # noqa: E402
from bridge.store.models import Job, JobState, Role  # noqa: E402
from bridge.store.warnings import OfficialWarning  # noqa: E402
from bridge.auth.users import create_user  # noqa: E402
from bridge.warnings.polls import POLL_JOB  # noqa: E402
from consent.followers import add_follower  # noqa: E402
from consent.subjects import ActorFacts, remember_actor  # noqa: E402
from consent.vault import Vault  # noqa: E402

ALERT = ROOT / "tests/fixtures/warnings/cap_flood_1.xml"


def write_config(folder: Path, source_url: str) -> Path:
    """bench_fanout's configuration, plus the warning source."""
    path = bench_fanout.write_config(folder, f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}")
    with path.open("a", encoding="utf-8") as config:
        config.write(f'[[warnings]]\nid = "bench"\nkind = "cap"\nurl = "{source_url}"\nactors = ["stadt"]\n'
                     "interval = 3600\n")
    return path


async def prepare(config, ports: list[int], inboxes: int, backlog: bool) -> None:
    engine = create_engine(config.database.url)
    sessions = create_sessionmaker(engine)
    await bootstrap(engine, sessions, config)
    vault = Vault.from_secret(load_or_create_secret(config.instance.data_dir))
    async with sessions.begin() as session:
        for i in range(inboxes):
            uri = f"http://127.0.0.1:{ports[i % len(ports)]}/users/u{i}"
            subject = await remember_actor(session, vault, ActorFacts(uri=uri, inbox=f"{uri}/inbox"))
            await add_follower(session, vault, subject, "stadt", f"{uri}#follow")
        user, _ = await create_user(session, "bench", Role.EDITOR, ["stadt"])
    if backlog:
        async with sessions.begin() as session:
            assert (await posts.create_post(session, config, user, posts.Draft("stadt", "Wochenmarkt #routine"))).ok
    await engine.dispose()


async def wait_for(config, check, interval: float = 0.1):
    engine = create_engine(config.database.url)
    try:
        while True:
            async with create_sessionmaker(engine)() as session:
                found = await check(session)
            if found is not None:
                return found
            await asyncio.sleep(interval)
    finally:
        await engine.dispose()


async def routine_queued(session, inboxes: int):
    count = await session.scalar(select(func.count()).select_from(Job).where(Job.kind == "deliver"))
    return True if count >= inboxes else None


async def first_poll_done(session):
    return True if await session.scalar(select(Job.id).where(Job.kind == POLL_JOB, Job.state == JobState.DONE)) \
        else None


async def trigger(config) -> None:
    """The poll is due now (as when its interval has just passed): one poll job, as the chain enqueues it."""
    engine = create_engine(config.database.url)
    async with create_sessionmaker(engine).begin() as session:
        await jobs.enqueue(session, POLL_JOB, {"source": "bench"}, max_attempts=3, priority=jobs.Priority.URGENT)
    await engine.dispose()


def warning_delivered(inboxes: int):
    async def check(session):
        post_ids = await session.scalar(select(OfficialWarning.post_ids))
        if not post_ids:
            return None
        done = select(func.count(), func.max(Job.finished_at)).where(
            Job.kind == "deliver", Job.post_id == post_ids[0], Job.state == JobState.DONE,
            Job.payload["verb"].as_string() == "create")
        count, last = (await session.execute(done)).one()
        return last if count >= inboxes else None
    return check


async def _timeline(config, t0: float) -> None:
    """Seconds after t0 at which each kind of job was first created and last finished (--timeline)."""
    engine = create_engine(config.database.url)
    verb = Job.payload["verb"].as_string()
    async with create_sessionmaker(engine)() as session:
        warning = await session.scalar(select(OfficialWarning))
        print(f"  warning stored at {warning.created_at.timestamp() - t0:+.2f} s")
        rows = await session.execute(select(Job.kind, verb, func.min(Job.created_at), func.max(Job.finished_at),
                                            func.count()).group_by(Job.kind, verb))
        for kind, job_verb, first, last, n in rows.all():
            ended = f"{last.timestamp() - t0:+.2f}" if last else "-"
            print(f"  {kind} {job_verb or ''}: {n} jobs, first created {first.timestamp() - t0:+.2f} s, "
                  f"last done {ended} s")
    await engine.dispose()


def run(args, ports: list[int], backlog: bool) -> float:
    folder = Path(tempfile.mkdtemp(prefix="stadtbote-bench-warnings-", dir=args.db_dir))
    served = folder / "source"
    served.mkdir()
    source = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"], cwd=served,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = int(source.stdout.readline().split(" port ")[1].split()[0])
    config = load_config(write_config(folder, f"http://127.0.0.1:{port}/alert.xml"))
    asyncio.run(prepare(config, ports, args.inboxes, backlog))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, "-m", "bridge", "worker", "--config", str(folder / "config.toml")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=folder)
    try:
        if backlog:  # the routine fan-out has queued its deliveries (and is working through them)
            asyncio.run(wait_for(config, lambda s: routine_queued(s, args.inboxes)))
        else:  # the worker is up: its first poll found no document yet
            asyncio.run(wait_for(config, first_poll_done))
        shutil.copy(ALERT, served / "alert.xml")
        t0 = time.time()
        asyncio.run(trigger(config))
        last = asyncio.run(wait_for(config, warning_delivered(args.inboxes), 0.25))
        if args.timeline:
            asyncio.run(_timeline(config, t0))
        return last.timestamp() - t0
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # still sending the pins' deliveries: not what is measured
            worker.kill()
            worker.wait()
        source.terminate()
        source.wait()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inboxes", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=25, help="receiving servers (ports)")
    parser.add_argument("--db-dir", help="where the temporary databases go")
    parser.add_argument("--timeline", action="store_true", help="print when each kind of job ran")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, alternating; medians compared")
    args = parser.parse_args()
    receivers = subprocess.Popen([sys.executable, str(ROOT / "tests/bench/receivers.py"), str(args.hosts)],
                                 stdout=subprocess.PIPE, text=True)
    ports = [int(line) for line in iter(receivers.stdout.readline, "ready\n")]
    alone, behind = [], []
    try:  # alternating, so that a change in the machine's load falls on both alike
        for _ in range(args.rounds):
            alone.append(run(args, ports, backlog=False))
            behind.append(run(args, ports, backlog=True))
    finally:
        receivers.terminate()
        receivers.wait()
    print(f"inboxes: {args.inboxes}  database: sqlite  workers: 1  rounds: {args.rounds}")
    print(f"warning alone: {_seconds(alone)} from appearing at the source to its delivery at {args.inboxes} inboxes")
    print(f"warning with a {args.inboxes}-inbox routine fan-out queued: {_seconds(behind)}")
    print(f"ratio of the medians: {statistics.median(behind) / statistics.median(alone):.2f}x (target <= 1.3x)")


def _seconds(times: list[float]) -> str:
    return f"median {statistics.median(times):.1f} s (" + ", ".join(f"{t:.1f}" for t in times) + ")"


if __name__ == "__main__":
    main()
