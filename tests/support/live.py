"""The application listening on a free loopback port, as `stadtbote serve` would, for real clients
(Chromium, Mastodon.py) that need a URL rather than a test client."""

from __future__ import annotations

import contextlib
import socket

import pytest
from aiohttp import web

from bridge.app import create_app
from bridge.store.db import create_engine, create_sessionmaker


@pytest.fixture
def port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def config(make_config, port):
    """The shared config, but with the address the server really listens on (links and origins match)."""
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}"})


@contextlib.asynccontextmanager
async def listening(config, *, run_worker: bool):
    """The app on the config's port; yields its base URL."""
    runner = web.AppRunner(create_app(config, run_worker=run_worker))
    await runner.setup()
    await web.TCPSite(runner, config.instance.listen_host, config.instance.listen_port).start()
    try:
        yield config.instance.base_url
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def sessions_beside(config):
    """Database sessions beside the running server, for setting up users without clicking."""
    engine = create_engine(config.database.url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()
