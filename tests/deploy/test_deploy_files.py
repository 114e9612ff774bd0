"""The deployment files in docs/deploy, checked with the tools that will read them: nginx, Caddy, systemd.

The nginx site also runs for real in front of the application on loopback: its micro-cache must serve
readers' feeds from the cache, never an editor's page or anything asked for with a cookie, and its body
limit must stop an oversized upload before the application reads it."""

from __future__ import annotations

import asyncio
import datetime
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bridge.app import create_app

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"
HOST = "stadt.example"


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package {name}; scripts/test.sh installs it as root)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _nginx_prefix(tmp_path: Path, app_port: int = 8080, https_port: int | None = None) -> Path:
    """The site file as shipped, with only the paths and ports a test machine needs changed."""
    cert, key = _self_signed(tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / "cache").mkdir()
    site = (DEPLOY / "nginx.conf").read_text()
    site = (site.replace("/etc/letsencrypt/live/stadt.example/fullchain.pem", str(cert))
                .replace("/etc/letsencrypt/live/stadt.example/privkey.pem", str(key))
                .replace("/var/cache/nginx/stadtbote", str(tmp_path / "cache"))
                .replace("/var/log/nginx/stadtbote.log", str(tmp_path / "logs" / "access.log"))
                .replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{app_port};"))
    if https_port is not None:
        site = (site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
                    .replace("listen 80;", f"listen 127.0.0.1:{_free_port()};")
                    .replace("listen [::]:443 ssl http2;\n", "").replace("listen [::]:80;\n", ""))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"user root;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  include {tmp_path}/site.conf;\n}}\n")
    return tmp_path


def test_nginx_accepts_the_site(tmp_path):
    nginx = _tool("nginx")
    prefix = _nginx_prefix(tmp_path)
    done = subprocess.run([nginx, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_nginx_refuses_a_broken_site(tmp_path):
    # The check above is worth something only if nginx -t fails on a mistake.
    nginx = _tool("nginx")
    prefix = _nginx_prefix(tmp_path)
    (prefix / "site.conf").write_text((prefix / "site.conf").read_text().replace("proxy_cache stadtbote;",
                                                                                 "proxy_cache nowhere;", 1))
    done = subprocess.run([nginx, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                          capture_output=True, text=True)
    assert done.returncode != 0


def test_caddy_accepts_the_caddyfile():
    caddy = _tool("caddy")
    done = subprocess.run([caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


@pytest.mark.parametrize("unit", ["stadtbote.service", "stadtbote-worker.service"])
def test_systemd_accepts_the_units(tmp_path, unit):
    analyze = _tool("systemd-analyze")
    executable = Path(sys.executable).parent / "stadtbote"
    text = (DEPLOY / unit).read_text().replace("/opt/stadtbote/.venv/bin/stadtbote", str(executable))
    (tmp_path / unit).write_text(text)
    done = subprocess.run([analyze, "verify", str(tmp_path / unit)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for hardening in ("ProtectSystem=strict", "NoNewPrivileges=true", "ReadWritePaths=/var/lib/stadtbote",
                      "Restart=on-failure", "User=stadtbote", "UMask=0077"):
        assert hardening in text


@pytest.fixture
async def behind_nginx(tmp_path, aiohttp_server, config, booted):
    nginx = _tool("nginx")
    app_server = await aiohttp_server(create_app(config, run_worker=False))
    port = _free_port()
    (tmp_path / "nginx").mkdir()
    prefix = _nginx_prefix(tmp_path / "nginx", app_port=app_server.port, https_port=port)
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        await asyncio.sleep(0.05)
    connector = aiohttp.TCPConnector(ssl=False)
    async with aiohttp.ClientSession(f"https://127.0.0.1:{port}", connector=connector,
                                     headers={"Host": HOST}) as http:
        yield http, prefix
    process.terminate()
    process.wait(timeout=10)


async def _cache_status(http, path: str, **kwargs) -> tuple[int, str]:
    async with http.get(path, allow_redirects=False, **kwargs) as response:
        await response.read()
        return response.status, response.headers.get("X-Cache-Status", "")


async def test_nginx_caches_readers_feeds_and_never_editors_pages(behind_nginx):
    http, prefix = behind_nginx
    assert await _cache_status(http, "/@stadt.rss") == (200, "MISS")
    assert await _cache_status(http, "/@stadt.rss") == (200, "HIT")
    # A request with a cookie (an editor's session) always reaches the application.
    assert (await _cache_status(http, "/@stadt.rss", headers={"Cookie": "stadtbote=x"}))[1] == "BYPASS"
    # The editor's area answers no-store: never kept, whoever asks.
    first, second = await _cache_status(http, "/editor"), await _cache_status(http, "/editor")
    assert first[0] in (302, 303) and second[1] != "HIT"
    log = (prefix / "logs" / "access.log").read_text()
    assert "GET /@stadt.rss" in log and "127.0.0.1" not in log  # no readers' addresses in the proxy's log


async def test_nginx_stops_an_oversized_upload_before_the_application(behind_nginx):
    http, _ = behind_nginx
    body = b"x" * (42 * 1024 * 1024)
    async with http.post("/editor/compose", data=body,
                         headers={"Content-Type": "application/octet-stream"}) as response:
        assert response.status == 413


async def test_nginx_keeps_the_metrics_from_the_public(behind_nginx):
    """nginx reaches the app from loopback, which `[metrics] allow` admits by default: the site must refuse
    /metrics itself, while the probes and the rest pass through."""
    http, _ = behind_nginx
    async with http.get("/metrics") as response:
        assert response.status in (403, 404) and "stadtbote_" not in await response.text()
    async with http.get("/healthz") as response:
        assert response.status == 200


def test_the_caddyfile_keeps_the_metrics_from_the_public():
    assert "respond /metrics 404" in (DEPLOY / "Caddyfile").read_text()


def test_the_proxy_examples_match_the_limits():
    """The body limit written in the proxy files is the one config.example.toml implies."""
    example = tomllib.loads((DEPLOY.parents[1] / "config.example.toml").read_text())
    limit_mib = example["limits"]["max_images"] * example["limits"]["max_image_bytes"] / 2**20
    assert "client_max_body_size 41m;" in (DEPLOY / "nginx.conf").read_text()
    assert "max_size 41MB" in (DEPLOY / "Caddyfile").read_text()
    assert 40 <= limit_mib < 41
