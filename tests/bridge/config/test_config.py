"""Config loading: every mistake stops start-up with one line naming the key (and exit code 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.config.model import ConfigError
from bridge.config.load import load_config

EXAMPLE = Path(__file__).parents[3] / "config.example.toml"
GOOD = """
[instance]
base_url = "https://stadt.example"
name = "Stadt"
[[actors]]
name = "stadt"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_as_is():
    config = load_config(EXAMPLE)
    assert config.instance.base_url == "http://127.0.0.1:8080"
    assert (config.instance.listen_host, config.instance.listen_port) == ("127.0.0.1", 8080)
    assert config.instance.data_dir == EXAMPLE.parent / "data"
    assert config.database.url == f"sqlite+aiosqlite:///{EXAMPLE.parent / 'data' / 'stadtbote.sqlite3'}"
    assert config.federation.allow_private_addresses is False and config.federation.signing_processes == 1
    assert [a.name for a in config.actors] == ["stadt", "feuerwehr"]
    assert config.actor("feuerwehr").require_approval is True


def test_every_example_key_is_commented():
    lines = EXAMPLE.read_text().splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#") and not line.startswith("["):
            previous = lines[i - 1].strip()
            same_key_again = previous and not previous.startswith("#") and "=" in previous
            assert previous.startswith("#") or same_key_again or i > 0 and lines[i - 1].startswith("[["), line


def test_relative_data_dir_is_relative_to_the_config_file(tmp_path):
    config = load_config(write(tmp_path, GOOD + '\n'))
    assert config.instance.data_dir == tmp_path / "data"
    assert config.instance.language == "de" and config.limits.max_images == 4


@pytest.mark.parametrize("text, path, problem", [
    (GOOD + "\n[instance2]\nx = 1\n", "instance2", "unknown key"),
    (GOOD.replace('name = "Stadt"', 'name = "Stadt"\ncolour = "red"'), "instance.colour", "unknown key"),
    (GOOD.replace('base_url = "https://stadt.example"', ""), "instance.base_url", "required value is missing"),
    (GOOD.replace('"https://stadt.example"', '"stadt.example"'), "instance.base_url", "malformed URL"),
    (GOOD.replace('"https://stadt.example"', '"ftp://stadt.example"'), "instance.base_url", "malformed URL"),
    (GOOD.replace('name = "Stadt"', "name = 5"), "instance.name", "must be a string, not an integer"),
    (GOOD + "[federation]\nallow_private_addresses = \"yes\"\n", "federation.allow_private_addresses",
     "must be true or false"),
    (GOOD + "[federation]\nsigning_processes = 9\n", "federation.signing_processes", "between 0 and 8"),
    (GOOD.replace('name = "Stadt"', 'name = "Stadt"\nsession_idle_minutes = 0'), "instance.session_idle_minutes",
     "must be at least 1"),
    (GOOD + "[feeds]\ncache_seconds = 90000\n", "feeds.cache_seconds", "must be between 0 and 86400"),
    (GOOD + "[federation]\nsigning_processes = -1\n", "federation.signing_processes", "between 0 and 8"),
    (GOOD + "[limits]\nmax_images = true\n", "limits.max_images", "not a boolean"),
    (GOOD + "[limits]\nmax_images = 9\n", "limits.max_images", "at most 4"),
    (GOOD.replace('name = "stadt"', 'name = "Stadt Amt"'), "actors[0].name", "lowercase"),
    (GOOD + '[[actors]]\nname = "stadt"\n', "actors[1].name", "duplicate"),
    (GOOD + '\n[privacy]\nimprint_url = "nope"\n', "privacy.imprint_url", "malformed URL"),
    (GOOD.replace('name = "Stadt"', 'name = "Stadt"\nlisten = "8080"'), "instance.listen", "host:port"),
    (GOOD.replace('name = "Stadt"', 'name = "Stadt"\nlanguage = "fr"'), "instance.language", "one of"),
    (GOOD.replace('name = "Stadt"', 'name = "Stadt"\ntimezone = "Mars/Base"'), "instance.timezone", "unknown"),
    (GOOD + '[database]\nurl = "mysql://x"\n', "database.url", "must start with"),
    (GOOD + "[privacy]\naccess_log_addresses = \"full\"\n", "privacy.access_log_addresses", "omit"),
    (GOOD + '[database]\nurl = "env:STADTBOTE_TEST_UNSET_VAR"\n', "database.url", "is not set"),
    ("[instance\n", None, "not valid TOML"),
])
def test_config_mistakes_name_the_key(tmp_path, text, path, problem):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), environ={})
    if path is not None:
        assert err.value.path == path
    assert problem in str(err.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml")


def test_secrets_from_environment_never_appear_in_repr(tmp_path):
    text = GOOD + """
[[platforms]]
id = "bsky"
kind = "bluesky"
api_base = "https://bsky.social"
handle = "stadt.bsky.social"
app_password = "env:BSKY_PW"
recipient = "Bluesky Social PBC"
country = "US"
transfer_mechanism = "EU-US Data Privacy Framework"
"""
    config = load_config(write(tmp_path, text), environ={"BSKY_PW": "hunter2-secret"})
    platform = config.platforms[0]
    assert platform.credentials["app_password"].value == "hunter2-secret"
    assert "hunter2-secret" not in repr(config) and "hunter2-secret" not in str(platform)
    with pytest.raises(ConfigError, match="platforms\\[0\\].kind"):
        load_config(write(tmp_path, text.replace('"bluesky"', '"myspace"')), environ={"BSKY_PW": "x"})


def test_cli_exits_2_with_one_line_for_a_config_error(tmp_path):
    path = write(tmp_path, GOOD.replace('"https://stadt.example"', '"not a url"'))
    done = subprocess.run([sys.executable, "-m", "bridge", "user", "list", "--config", str(path)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "stadtbote: config error: instance.base_url: malformed URL 'not a url' "
        "(expected http:// or https:// with a host)"]
    assert "Traceback" not in done.stderr
