"""`[instance] trusted_proxies`: CIDR networks or single addresses; a bad one stops start-up naming the key."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.config.load import load_config
from bridge.config.model import ConfigError

GOOD = """
[instance]
base_url = "https://stadt.example"
name = "Stadt"
{extra}
"""
ROOT = Path(__file__).parents[3]


def write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(GOOD.format(extra=extra), encoding="utf-8")
    return path


def test_the_default_trusts_no_proxy(tmp_path):
    assert load_config(write(tmp_path, ""), environ={}).instance.trusted_proxies == ()


def test_networks_and_single_addresses(tmp_path):
    config = load_config(write(tmp_path, 'trusted_proxies = ["10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8"]'),
                         environ={})
    assert config.instance.trusted_proxies == tuple(
        ipaddress.ip_network(n) for n in ("10.0.0.0/8", "127.0.0.1/32", "::1/128", "fd00::/8"))


@pytest.mark.parametrize("value, path", [
    ('["10.0.0.0/33"]', "instance.trusted_proxies[0]"),
    ('["127.0.0.1", "proxy.local"]', "instance.trusted_proxies[1]"),
    ('["10.0.0.1/8"]', "instance.trusted_proxies[0]"),  # host bits set: say the network meant
    ('[8]', "instance.trusted_proxies[0]"),
    ('"10.0.0.0/8"', "instance.trusted_proxies"),  # a string, not a list
])
def test_a_bad_network_names_the_key(tmp_path, value, path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, f"trusted_proxies = {value}"), environ={})
    assert err.value.path == path


def test_the_cli_stops_with_one_line_and_exit_2(tmp_path):
    path = write(tmp_path, 'trusted_proxies = ["10.0.0.0/33"]')
    done = subprocess.run([sys.executable, "-m", "bridge", "serve", "--config", str(path)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "stadtbote: config error: instance.trusted_proxies[0]: not a network in CIDR notation: '10.0.0.0/33' "
        '(e.g. "10.0.0.0/8" or "127.0.0.1")']
