"""Where a request comes from (`bridge.web.clients.resolve`): forwarding headers are believed only from
trusted proxies, X-Forwarded-For is read from the right, and only one module asks for the TCP peer."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bridge.app import create_app
from bridge.web.clients import Client, resolve
from bridge.web.middleware import PrivateAccessLogger

TRUSTED = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"),
           ipaddress.ip_network("fd00::/8"))
BRIDGE = Path(__file__).parents[3] / "bridge"


@pytest.mark.parametrize("peer, forwarded_for, expected", [
    ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # untrusted peer: its header is ignored
    ("127.0.0.1", [], "127.0.0.1"),  # a trusted proxy that sent no header is the best we know
    ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
    ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # what the client wrote itself stays left
    ("127.0.0.1", ["6.6.6.6", "198.51.100.1, 10.0.0.2"], "198.51.100.1"),  # several header lines, a chain
    ("127.0.0.1", ["10.0.0.3, 10.0.0.2"], "10.0.0.3"),  # all trusted: the leftmost
    ("127.0.0.1", ["garbage, 10.0.0.2"], "10.0.0.2"),  # unreadable beyond a trusted hop: that hop
    ("127.0.0.1", ["198.51.100.1:4711"], "198.51.100.1"),
    ("127.0.0.1", ["[2001:db8::1]:4711"], "2001:db8::1"),
    ("::ffff:127.0.0.1", ["2001:db8::1"], "2001:db8::1"),  # a dual-stack socket's IPv4-mapped peer
    ("fd00::5", [" 2001:db8::7 "], "2001:db8::7"),
    (None, ["198.51.100.1"], None),  # a Unix socket has no address, and no trust
])
def test_the_client_address(peer, forwarded_for, expected):
    assert resolve(peer, forwarded_for, [], "http", TRUSTED).address == expected


@pytest.mark.parametrize("peer, proto, expected", [
    ("203.0.113.5", ["https"], "http"),  # an untrusted peer cannot claim https
    ("127.0.0.1", ["https"], "https"),
    ("127.0.0.1", ["HTTPS"], "https"),
    ("127.0.0.1", ["http, https"], "https"),  # the nearest (trusted) proxy speaks last
    ("127.0.0.1", ["gopher"], "http"),
    ("127.0.0.1", [], "http"),
])
def test_the_client_scheme(peer, proto, expected):
    assert resolve(peer, ["198.51.100.1"], proto, "http", TRUSTED).scheme == expected


def test_without_trusted_proxies_nothing_is_believed():
    assert resolve("127.0.0.1", ["198.51.100.1"], ["https"], "http", ()) == Client("127.0.0.1", "http")


def test_only_the_clients_module_reads_the_tcp_peer():
    readers = sorted(str(p.relative_to(BRIDGE)) for p in BRIDGE.rglob("*.py")
                     if re.search(r"\brequest\.remote\b|[\"']X-Forwarded", p.read_text(encoding="utf-8")))
    assert readers == ["web/clients.py"]


async def test_the_access_log_names_the_clients_network_behind_a_trusted_proxy(make_config, booted, caplog):
    """A real server as `stadtbote serve` runs it: the proxy's address never stands in for the reader's."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = make_config(instance={"trusted_proxies": ["127.0.0.1"]})
    runner = web.AppRunner(create_app(config, run_worker=False), access_log_class=PrivateAccessLogger,
                           access_log_format="truncate")
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/@stadt.rss",
                                    headers={"X-Forwarded-For": "203.0.113.77"}) as response:
                    await response.read()
    finally:
        await runner.cleanup()
    [line] = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert line.startswith("203.0.112.0/20 GET /@stadt.rss 200 ")
