"""Scale-out: two `stadtbote serve` and two `stadtbote worker` processes, as an operator starts them, on one
database and one S3 bucket (moto's standalone server). Each serve has a data_dir of its own, as on two
machines; only the instance secret and the audit signing key are copied, as docs/deployment.md says.

An image posted through one serve is served by the other, sign-in throttling counts failures at both, both
serves are ready because the worker processes beat, and the delivery a worker made is in that worker's
`/metrics` (on `[metrics] worker_listen`)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from yarl import URL

from bridge.runtime.secrets import SECRET_FILE, load_or_create_secret
from bridge.store.db import create_engine, create_sessionmaker
from bridge.store.models import Role
from consent.auditsigning import KEY_FILE
from consent.followers import add_follower
from consent.subjects import ActorFacts, remember_actor
from consent.vault import Vault
from support.api import bearer, make_token, media_form
from support.web import Visitor, sign_in
from testkit import TEST_PASSWORD, add_user

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
STARTED = {"serve": "Stadtbote is listening", "worker": "Stadtbote worker is running"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine_config(folder: Path, db_url: str, port: int, s3_service, bucket: str, metrics_port: int) -> Path:
    folder.mkdir(parents=True)
    path = folder / "config.toml"
    path.write_text(f"""
[instance]
base_url = "http://stadt.test"
name = "Stadt Teststadt"
listen = "127.0.0.1:{port}"
data_dir = "data"
language = "de"

[database]
url = "{db_url}"

[federation]
allow_private_addresses = true

[metrics]
worker_listen = "127.0.0.1:{metrics_port}"

[media]
backend = "s3"
endpoint = "{s3_service.endpoint}"
bucket = "{bucket}"
region = "eu-central-1"
access_key = "{s3_service.access_key}"
secret_key = "env:STADTBOTE_TEST_S3_SECRET"

[[actors]]
name = "stadt"
display_name = "Stadt Teststadt"

[[actors]]
name = "feuerwehr"
require_approval = true
""", encoding="utf-8")
    return path


class Fleet:
    """The processes of the test; every one is stopped with SIGTERM (then killed) at the end."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self, verb: str, config: Path, *flags: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bridge", verb, *flags, "--config", str(config), env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        self.processes.append(proc)
        while True:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
            if not line:
                err = (await proc.stderr.read()).decode()
                raise AssertionError(f"{verb} ended before it started: {err[-2000:]}")
            if STARTED[verb] in line.decode():
                return

    async def stop(self) -> None:
        for proc in self.processes:
            if proc.returncode is None:
                proc.terminate()
        for proc in self.processes:
            try:
                await asyncio.wait_for(proc.wait(), timeout=20)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()


class Machine:
    """A serve process seen from outside, with what `support.web.Visitor` expects of a test client."""

    def __init__(self, port: int, metrics_port: int):
        self.port, self.metrics_port = port, metrics_port

    def make_url(self, path: str) -> URL:
        return URL(f"http://127.0.0.1:{self.port}{path}")


@pytest.fixture
async def fleet(tmp_path, db_url, booted, s3_service, s3_bucket):
    env = {**ENV, "STADTBOTE_TEST_S3_SECRET": s3_service.secret_key}
    ports, metrics_ports = (_free_port(), _free_port()), (_free_port(), _free_port())
    configs = [machine_config(tmp_path / name, db_url, port, s3_service, s3_bucket, metrics_port)
               for name, port, metrics_port in zip(("a", "b"), ports, metrics_ports)]
    running = Fleet(env)
    try:
        await running.start("serve", configs[0], "--no-worker")
        first, second = (c.parent / "data" for c in configs)
        second.mkdir(mode=0o700)
        for name in (SECRET_FILE, KEY_FILE):  # what the machines must share besides database and bucket
            if (first / name).exists():
                shutil.copy2(first / name, second / name)
        await running.start("serve", configs[1], "--no-worker")
        await running.start("worker", configs[0])
        await running.start("worker", configs[1])
        yield [Machine(p, m) for p, m in zip(ports, metrics_ports)], configs
    finally:
        await running.stop()


@pytest.fixture
async def sessions(db_url):
    engine = create_engine(db_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def test_two_serves_and_two_workers_share_one_database_and_one_bucket(fleet, sessions, s3_service, s3_bucket,
                                                                            test_password_hash, aiohttp_server):
    """One fleet for both checks: four processes take a while to start on a busy machine."""
    (a, b), configs = fleet
    inbox = await follower_inbox(aiohttp_server, sessions, configs[0])
    await an_image_posted_through_one_serve_is_served_by_the_other(a, b, configs, sessions, s3_service, s3_bucket)
    await sign_in_throttling_counts_failures_at_both_serves(a, b, sessions, test_password_hash)
    await the_worker_that_delivered_counts_it(a, b, inbox)


async def follower_inbox(aiohttp_server, sessions, config: Path) -> list[str]:
    """A follower whose server accepts every delivery and notes the activity's type."""
    received: list[str] = []

    async def accept(request: web.Request) -> web.Response:
        received.append((await request.json())["type"])
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/users/leser/inbox", accept)
    server = await aiohttp_server(app)
    uri = f"http://127.0.0.1:{server.port}/users/leser"
    vault = Vault.from_secret(load_or_create_secret(config.parent / "data"))
    async with sessions.begin() as session:
        subject = await remember_actor(session, vault, ActorFacts(uri=uri, inbox=f"{uri}/inbox"))
        await add_follower(session, vault, subject, "stadt", f"{uri}#follow")
    return received


async def deliveries(http: aiohttp.ClientSession, port: int) -> float:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
        assert r.status == 200
        text = await r.text()
    return sum(sample.value for family in text_string_to_metric_families(text) if family.name == "stadtbote_deliveries"
               for sample in family.samples if sample.name == "stadtbote_deliveries_total")


async def the_worker_that_delivered_counts_it(a, b, inbox: list[str]) -> None:
    for _ in range(240):  # a worker polls the queue; the machine may be busy
        if inbox:
            break
        await asyncio.sleep(0.25)
    assert inbox == ["Create"]
    async with aiohttp.ClientSession() as http:
        counted = [await deliveries(http, machine.metrics_port) for machine in (a, b)]
        assert sorted(counted) == [0, 1]  # one worker took the job, and only its counter moved


async def an_image_posted_through_one_serve_is_served_by_the_other(a, b, configs, sessions, s3_service, s3_bucket):
    token = await make_token(sessions)
    async with aiohttp.ClientSession() as http:
        async with http.post(a.make_url("/api/v2/media"), data=media_form("Rathaus"), headers=bearer(token)) as r:
            assert r.status == 200, await r.text()
            media = await r.json()
        async with http.post(a.make_url("/api/v1/statuses"), headers=bearer(token),
                             json={"status": "Mit Bild", "media_ids": [media["id"]]}) as r:
            assert r.status == 200, await r.text()
        path = URL(media["url"]).path
        async with http.get(a.make_url(path)) as r:
            from_a = await r.read()
            assert r.status == 200
        async with http.get(b.make_url(path)) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "image/png"
            assert await r.read() == from_a
        for machine in (a, b):  # the worker processes' heartbeats make both serves ready
            async with http.get(machine.make_url("/readyz")) as r:
                assert r.status == 200, await r.text()
    assert s3_service.objects(s3_bucket) == [path.lstrip("/")]
    assert not any((c.parent / "data" / "media").exists() for c in configs)


async def sign_in_throttling_counts_failures_at_both_serves(a, b, sessions, test_password_hash):
    async with sessions.begin() as session:
        await add_user(session, "erika", Role.EDITOR, ["stadt"], test_password_hash)
    at_a, at_b = Visitor(a), Visitor(b)
    try:
        for visitor in (at_a, at_b, at_a, at_b, at_a):  # five failures, alternating: the limit for one account
            assert (await sign_in(visitor, "erika", "falsches Passwort")).status == 401
        for visitor in (at_b, at_a):  # blocked everywhere, even with the right password
            page = await sign_in(visitor, "erika", TEST_PASSWORD)
            assert page.status == 429 and page.headers["Retry-After"] == "900"
    finally:
        await at_a.close()
        await at_b.close()
