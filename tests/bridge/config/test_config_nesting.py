"""A config value nested far too deeply is a config error like any other: one line, exit 2 (issue 16, defect 7)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bridge.config.load import load_config
from bridge.config.model import ConfigError

GOOD = """
[instance]
base_url = "https://stadt.example"
name = "Stadt"
[[actors]]
name = "stadt"
"""


@pytest.mark.parametrize("value", ["[" * 10_000 + "]" * 10_000, "{a = " * 10_000 + "}" * 10_000])
def test_a_value_nested_ten_thousand_deep_is_a_config_error(tmp_path, value):
    path = tmp_path / "config.toml"
    path.write_text(GOOD.replace('name = "Stadt"', f"name = {value}"), encoding="utf-8")
    with pytest.raises(ConfigError, match="nest too deeply"):
        load_config(path)


def test_the_cli_exits_2_with_one_line_for_a_deeply_nested_value(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(GOOD + "[limits]\nmax_images = " + "[" * 10_000 + "]" * 10_000 + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bridge", "user", "list", "--config", str(path)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"stadtbote: config error: {path}: not valid TOML (values nest too deeply)"]
