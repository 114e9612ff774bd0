"""Read-path benchmark: public documents from `stadtbote serve` next to a bare aiohttp server with the same bytes.

    .venv/bin/python tests/bench/bench_reads.py [--posts 20] [--seconds 3] [--rounds 3] [--connections 50]
                                                [--big 100000] [--few 10] [--no-access-log] [--db-url URL]
                                                [--only actor,304,Note]

Starts a real `stadtbote serve` (uvloop, as in production; worker off) on a fresh database with `--posts`
posts, fetches each endpoint once, and starts a bare aiohttp server (same Python, same loop kind) that answers
each path with exactly those bytes, status and content type (and a 304 to a conditional request). Then it
alternates the two under wrk (`-t1 -c50`; Debian's `wrk`, else an aiohttp client loop) for every endpoint,
`--rounds` times, and prints the median req/s, p50/p99 and the share of bare. Also: the cost of the uncached
render path with `--big` posts stored against 10 (the render path is what a version change costs), idle and
loaded RSS of `serve`, start-up to the first 200, and the time of `stadtbote --help`. Figures are ratios
measured in one run on this machine; print the load average next to them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bridge.auth.users import create_user  # noqa: E402
from bridge.cli.bootstrap import bootstrap  # noqa: E402
from bridge.config.load import load_config  # noqa: E402
from bridge.publishing import posts  # noqa: E402
from bridge.publishing.drafts import Draft  # noqa: E402
from bridge.store.db import create_engine, create_sessionmaker, utcnow  # noqa: E402
from bridge.store.feeds import PostTag  # noqa: E402
from bridge.store.models import Actor, Post, PostState, Role  # noqa: E402
try:  # run from an older tree (`git archive` of main) for the figures before the read cache
    from bridge.store.versions import recount
except ImportError:
    recount = None

AP = "application/activity+json"
STADTBOTE = [sys.executable, "-m", "bridge"]


@dataclass(frozen=True)
class Endpoint:
    label: str
    path: str
    accept: str = "*/*"
    conditional: bool = False  # send the ETag of the first answer: the server should answer 304


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path, port: int, db_url: str, memory_mb: int, access_log: bool) -> Path:
    path = folder / "config.toml"
    path.write_text(f"""
[instance]
base_url = "http://127.0.0.1:{port}"
name = "Benchmark"
listen = "127.0.0.1:{port}"
data_dir = "data"
[database]
url = "{db_url}"
[logging]
access_log = {"true" if access_log else "false"}
{f"[cache]{chr(10)}memory_mb = {memory_mb}" if recount is not None else ""}
[[actors]]
name = "stadt"
display_name = "Stadt Benchmark"
""")
    return path


async def prepare(config_path: Path, count: int) -> list[int]:
    """`count` posts: the newest 20 through the post service, older ones written in bulk (then recounted)."""
    config = load_config(config_path)
    engine = create_engine(config.database.url)
    sessions = create_sessionmaker(engine)
    await bootstrap(engine, sessions, config)
    async with sessions.begin() as session:
        user, _ = await create_user(session, "erika", Role.EDITOR, ["stadt"])
        user_id = user.id
    bulk = max(0, count - 20)
    if bulk:
        await _bulk_posts(sessions, bulk)
    ids = []
    for n in range(min(count, 20)):
        async with sessions.begin() as session:
            user = await session.get(type(user), user_id)
            text = (f"Meldung {n}: Die Brücke an der Hauptstraße ist wegen Bauarbeiten bis Freitag gesperrt. "
                    f"Umleitung über die Ringstraße. #verkehr #baustelle https://stadt.example/baustellen/{n}")
            result = await posts.create_post(session, config, user, Draft("stadt", text))
            ids.append(result.post.id)
    await engine.dispose()
    return ids


async def _bulk_posts(sessions, n: int) -> None:
    now = utcnow()
    base = (int(time.time() * 1000) - n - 10_000) << 16
    async with sessions.begin() as session:
        actor_id = (await session.execute(Actor.__table__.select().where(Actor.name == "stadt"))).first().id
        for start in range(0, n, 5000):
            rows = [dict(id=base + (i << 16), actor_id=actor_id, state=PostState.PUBLISHED, text=f"Alt {i} #verkehr",
                         spoiler_text="", language="de", mirrors=[], pinned=False, created_at=now, published_at=now)
                    for i in range(start, min(n, start + 5000))]
            await session.execute(insert(Post.__table__), rows)
            await session.execute(insert(PostTag.__table__), [{"tag": "verkehr", "post_id": r["id"]} for r in rows])
    if recount is not None:
        await recount(sessions.kw["bind"])


def rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes, str, dict]:
    try:
        with urlopen(Request(url, headers=headers), timeout=30) as response:
            return response.status, response.read(), response.headers.get("Content-Type", ""), dict(response.headers)
    except Exception as exc:  # urllib raises for 304 and 4xx
        code = getattr(exc, "code", 0)
        return code, b"", "", dict(getattr(exc, "headers", {}) or {})


# As installed for a city (pip compiles the bytecode; a service may write it): a shell with
# PYTHONDONTWRITEBYTECODE set would otherwise compile every module of the project again at each start (~0.7 s).
AS_DEPLOYED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def start_serve(config_path: Path, port: int) -> tuple[subprocess.Popen, float]:
    started = time.perf_counter()
    process = subprocess.Popen(STADTBOTE + ["serve", "--config", str(config_path), "--no-worker"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=AS_DEPLOYED)
    deadline = started + 60
    while time.perf_counter() < deadline:
        status = fetch(f"http://127.0.0.1:{port}/", {})[0]
        if status == 200:
            return process, time.perf_counter() - started
        time.sleep(0.02)
    process.kill()
    raise SystemExit("serve did not answer within 60 s")


BARE_SERVER = r"""
import json, sys
from aiohttp import web
try:
    import uvloop
except ImportError:
    uvloop = None
answers = json.load(open(sys.argv[1]))
async def handle(request):
    found = answers.get(request.path_qs)
    if found is None:
        return web.Response(status=404)
    if request.headers.get("If-None-Match") and found["etag"]:
        return web.Response(status=304, headers={"ETag": found["etag"]})
    return web.Response(status=found["status"], body=found["body"].encode("latin-1"),
                        headers={"Content-Type": found["type"]})
app = web.Application()
app.router.add_get("/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), access_log=None, print=None,
            loop=uvloop.new_event_loop() if uvloop else None)
"""


def start_bare(answers: dict, folder: Path, port: int) -> subprocess.Popen:
    (folder / "answers.json").write_text(json.dumps(answers))
    (folder / "bare.py").write_text(BARE_SERVER)
    process = subprocess.Popen([sys.executable, str(folder / "bare.py"), str(folder / "answers.json"), str(port)])
    for _ in range(500):
        if fetch(f"http://127.0.0.1:{port}/", {})[0] == 404:
            return process
        time.sleep(0.02)
    raise SystemExit("bare server did not start")


@dataclass(frozen=True)
class Run:
    rate: float
    p50_ms: float
    p99_ms: float
    requests: int


def _ms(value: str) -> float:
    found = re.match(r"([\d.]+)(us|ms|s|m)$", value)  # wrk prints "-nan" when nothing came back
    if found is None:
        return float("nan")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def load(url: str, headers: dict[str, str], seconds: int, connections: int) -> Run:
    if shutil.which("wrk"):
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        out = subprocess.run(command + [url], capture_output=True, text=True).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        # At a line's start: "89.50%" in the stdev column must not be read as the 50th percentile.
        p50, p99 = (re.search(rf"^\s+{q}%\s+(\S+)", out, re.MULTILINE) for q in (50, 99))
        p50, p99 = (_ms(m.group(1)) if m else float("nan") for m in (p50, p99))
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        return Run(rate, p50, p99, requests)
    return asyncio.run(_client_load(url, headers, seconds, connections))


async def _client_load(url: str, headers: dict[str, str], seconds: int, connections: int) -> Run:
    """Without wrk: an aiohttp client loop (it costs CPU on the same cores, so shares are lower bounds)."""
    times: list[float] = []
    end = time.perf_counter() + seconds

    async def one(session):
        while time.perf_counter() < end:
            started = time.perf_counter()
            async with session.get(url, headers=headers) as response:
                await response.read()
            times.append(time.perf_counter() - started)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:
        await asyncio.gather(*(one(session) for _ in range(connections)))
    times.sort()
    return Run(len(times) / seconds, times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000,
               len(times))


def endpoints(ids: list[int], port: int) -> list[Endpoint]:
    newest = ids[-1]
    return [
        Endpoint("actor JSON", "/users/stadt", AP),
        Endpoint("WebFinger", f"/.well-known/webfinger?resource=acct:stadt@127.0.0.1:{port}"),
        Endpoint("feed, conditional GET 304", "/@stadt.rss", conditional=True),
        Endpoint("Note JSON (permalink, AP Accept)", f"/@stadt/{newest}", AP),
        Endpoint("RSS", "/@stadt.rss"),
        Endpoint("Atom", "/@stadt.atom"),
        Endpoint("JSON Feed", "/@stadt.json"),
        Endpoint("outbox page", "/users/stadt/outbox?page=true", AP),
        Endpoint("NodeInfo", "/nodeinfo/2.1"),
        Endpoint("profile page", "/@stadt"),
        Endpoint("permalink HTML", f"/@stadt/{newest}", "text/html"),
        Endpoint("tag page", "/tags/verkehr"),
        Endpoint("tag RSS", "/tags/verkehr.rss"),
    ]


def selected(args, chosen: list[Endpoint]) -> list[Endpoint]:
    if not args.only:
        return chosen
    words = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    return [e for e in chosen if any(w in e.label.lower() for w in words)]


def headers_for(endpoint: Endpoint, etag: str | None) -> dict[str, str]:
    headers = {"Accept": endpoint.accept}
    if endpoint.conditional and etag:
        headers["If-None-Match"] = etag
    return headers


def side_by_side(args, folder: Path) -> None:
    port, bare_port = free_port(), free_port()
    db_url = args.db_url or f"sqlite+aiosqlite:///{folder / 'reads.sqlite3'}"
    config_path = write_config(folder, port, db_url, 32, not args.no_access_log)
    ids = asyncio.run(prepare(config_path, args.posts))
    serve, startup = start_serve(config_path, port)
    time.sleep(1.0)
    idle_rss = rss_of(serve.pid)
    base = f"http://127.0.0.1:{port}"
    chosen = selected(args, endpoints(ids, port))
    answers, etags = {}, {}
    for endpoint in chosen:
        status, body, kind, headers = fetch(base + endpoint.path, {"Accept": endpoint.accept})
        assert status == 200, (endpoint.label, status)
        etags[endpoint.label] = headers.get("ETag")
        answers.setdefault(endpoint.path, {"status": status, "body": body.decode("latin-1"), "type": kind,
                                           "etag": headers.get("ETag")})
        if endpoint.conditional:
            assert fetch(base + endpoint.path, headers_for(endpoint, etags[endpoint.label]))[0] == 304
    bare = start_bare(answers, folder, bare_port)
    total = 0
    try:
        print(f"{'endpoint':36} {'stadtbote req/s':>15} {'p50 ms':>7} {'p99 ms':>7} {'bare req/s':>11} "
              f"{'p50 ms':>7} {'share':>7}")
        for endpoint in chosen:
            ours, theirs = [], []
            for _ in range(args.rounds):
                headers = headers_for(endpoint, etags[endpoint.label])
                ours.append(load(base + endpoint.path, headers, args.seconds, args.connections))
                theirs.append(load(f"http://127.0.0.1:{bare_port}{endpoint.path}", headers, args.seconds,
                                   args.connections))
            total += sum(r.requests for r in ours)
            rate, bare_rate = statistics.median(r.rate for r in ours), statistics.median(r.rate for r in theirs)
            print(f"{endpoint.label:36} {rate:15.0f} {statistics.median(r.p50_ms for r in ours):7.2f} "
                  f"{statistics.median(r.p99_ms for r in ours):7.2f} {bare_rate:11.0f} "
                  f"{statistics.median(r.p50_ms for r in theirs):7.2f} {rate / bare_rate:7.1%}", flush=True)
        loaded_rss = rss_of(serve.pid)
    finally:
        bare.send_signal(signal.SIGTERM)
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
        bare.wait(30)
    print(f"\nserve: start-up to the first 200 {startup:.2f} s; RSS idle {idle_rss:.0f} MB, "
          f"after {total} requests {loaded_rss:.0f} MB")


def render_cost(args, folder: Path) -> None:
    """The uncached render path (memory_mb = 0) with `--few` (10) posts and with `--big`: it must not grow."""
    if not args.big:
        return
    results = {}
    for count in (args.few, args.big):
        sub = folder / f"n{count}"
        sub.mkdir()
        port = free_port()
        db_url = f"sqlite+aiosqlite:///{sub / 'reads.sqlite3'}"
        config_path = write_config(sub, port, db_url, 0, False)
        ids = asyncio.run(prepare(config_path, count))
        serve, _ = start_serve(config_path, port)
        try:
            base = f"http://127.0.0.1:{port}"
            chosen = [e for e in endpoints(ids, port) if e.label not in ("actor JSON", "WebFinger")]
            chosen.append(Endpoint("outbox root", "/users/stadt/outbox", AP))
            chosen = selected(args, chosen)
            for endpoint in chosen:
                etag = fetch(base + endpoint.path, {"Accept": endpoint.accept})[3].get("ETag")
                runs = [load(base + endpoint.path, headers_for(endpoint, etag), args.seconds, 10)
                        for _ in range(max(1, args.rounds - 1))]
                results[(endpoint.label, count)] = statistics.median(r.rate for r in runs)
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(30)
    print(f"\nuncached render path (memory_mb = 0): req/s with {args.few} posts and with {args.big}, and the cost ratio")
    for label in dict.fromkeys(label for label, _ in results):
        few, many = results[(label, args.few)], results[(label, args.big)]
        print(f"  {label:36} {few:8.0f} {many:8.0f}   {few / many:5.2f}x")


def help_time() -> float:
    started = time.perf_counter()
    subprocess.run(STADTBOTE + ["--help"], cwd=ROOT, capture_output=True, check=True, env=AS_DEPLOYED)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--few", type=int, default=10, help="the small instance of the comparison (10, as issue 17 "
                        "asks; 20 fills a page, so both sides render the same number of entries)")
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument("--db-url", help="an empty PostgreSQL database instead of a SQLite file")
    parser.add_argument("--only", help="measure only the endpoints whose label contains one of these "
                                       "comma-separated words (e.g. 'actor,304,Note')")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"load generator: {'wrk' if shutil.which('wrk') else 'aiohttp client'}")
    print(f"stadtbote --help: {help_time():.2f} s\n")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        side_by_side(args, folder)
        render_cost(args, folder)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
