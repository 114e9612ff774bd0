"""Nothing about a reader is kept or set: no cookies, strict headers, access log lines without IPs or queries."""

from __future__ import annotations

import logging
import socket

import aiohttp
import pytest
from aiohttp import web

from bridge.app import create_app
from bridge.web.middleware import PrivateAccessLogger
from support.public import editor, publish

CSP = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'")


@pytest.fixture
async def paths(sessions, config, test_password_hash):
    user_id = await editor(sessions, test_password_hash)
    post_id = await publish(sessions, config, user_id, "Hallo #Welt", images=(("Ein Bild", False),))
    return ["/", "/@stadt", f"/@stadt/{post_id}", "/tags/welt", "/privacy", "/imprint", "/accessibility",
            "/@stadt.rss", "/@stadt.atom", "/@stadt.json", "/tags/welt.rss", "/feed.json", "/@stadt/follow",
            "/@stadt/follow?instance=mastodon.social", "/@stadt/follow?instance=%%%", "/@niemand", "/nothing/here",
            "/static/public.css"]


async def test_readers_get_no_cookie_and_every_security_header(client, paths):
    for path in paths:
        response = await client.get(path, allow_redirects=False)
        assert response.status in (200, 303, 400, 404), path
        assert "Set-Cookie" not in response.headers, path
        assert all(part in response.headers["Content-Security-Policy"] for part in CSP), path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert "camera=()" in response.headers["Permissions-Policy"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
    assert not client.session.cookie_jar.filter_cookies(client.make_url("/"))


async def test_public_pages_may_be_cached_by_the_readers_browser(client, paths):
    response = await client.get("/@stadt")
    assert response.headers["Cache-Control"] == "public, max-age=60"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_the_access_log_has_neither_ip_addresses_nor_query_strings(config, booted, caplog):
    """A real server as `stadtbote serve` runs it, with the access logger it installs."""
    port = free_port()
    runner = web.AppRunner(create_app(config, run_worker=False), access_log_class=PrivateAccessLogger)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with aiohttp.ClientSession() as http:
                for path in ("/@stadt.rss?utm_source=secret-campaign", "/@stadt/follow?instance=reader.example",
                             "/tags/welt?max_id=123"):
                    async with http.get(f"http://127.0.0.1:{port}{path}", allow_redirects=False) as response:
                        await response.read()
    finally:
        await runner.cleanup()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 3
    assert lines[0].startswith("GET /@stadt.rss 200 ")
    assert lines[1].startswith("GET /@stadt/follow 303 ")
    for line in lines:
        assert "127.0.0.1" not in line and "?" not in line and "secret-campaign" not in line
        assert "reader.example" not in line and "aiohttp" not in line  # no user agent either


async def test_the_access_log_may_keep_only_the_readers_network_when_configured(config, booted, caplog):
    port = free_port()
    runner = web.AppRunner(create_app(config, run_worker=False), access_log_class=PrivateAccessLogger,
                           access_log_format="truncate")
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/@stadt.rss?token=secret") as response:
                    await response.read()
    finally:
        await runner.cleanup()
    [line] = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert line.startswith("127.0.0.0/20 GET /@stadt.rss 200 ") and "secret" not in line
