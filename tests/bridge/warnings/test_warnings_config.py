"""`[[warnings]]` tables: the commented Bremerhaven example in config.example.toml parses, and mistakes stop
start-up with one line naming the key."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from bridge.config.load import parse_config
from bridge.config.model import ConfigError
from testkit import config_dict

EXAMPLE = Path(__file__).parents[3] / "config.example.toml"


def example_sources() -> list[dict]:
    """The commented [[warnings]] tables of the example, uncommented as an administrator would."""
    text = EXAMPLE.read_text(encoding="utf-8")
    block = text[text.index("# [[warnings]]"):]
    lines = [line[2:] for line in block.splitlines() if re.match(r"# (\[\[warnings\]\]|[a-z_]+ = )", line)]
    return tomllib.loads("\n".join(lines))["warnings"]


def test_the_example_is_off_by_default_and_parses_when_uncommented(tmp_path):
    assert tomllib.loads(EXAMPLE.read_text(encoding="utf-8")).get("warnings") is None
    sources = example_sources()
    config = parse_config(config_dict(tmp_path, "sqlite+aiosqlite:///x", warnings=sources), tmp_path, None,
                          os.environ)
    nina, dwd, cap, pegel = config.warnings
    assert nina.ars == "040120000000" and nina.api_base == "https://warnung.bund.de/api31"
    assert dwd.api_base == "https://opendata.dwd.de/weather/alerts/cap" and cap.url.endswith("feed.atom")
    assert pegel.stations == ("BREMERHAVEN ALTER LEUCHTTURM",)
    assert pegel.levels == (("Moderate", 750), ("Severe", 850), ("Extreme", 950))


@pytest.mark.parametrize(("table", "key"), [
    ({"id": "x", "kind": "katwarn", "actors": ["stadt"]}, "warnings[0].kind"),
    ({"id": "x", "kind": "nina", "actors": ["stadt"]}, "warnings[0].ars"),
    ({"id": "x", "kind": "nina", "ars": "0401", "actors": ["stadt"]}, "warnings[0].ars"),
    ({"id": "x", "kind": "nina", "ars": "040120000000", "actors": ["nobody"]}, "warnings[0].actors"),
    ({"id": "x", "kind": "nina", "ars": "040120000000", "actors": ["stadt"], "min_severity": "Hoch"},
     "warnings[0].min_severity"),
    ({"id": "x", "kind": "nina", "ars": "040120000000", "actors": ["stadt"], "mode": "later"}, "warnings[0].mode"),
    ({"id": "x", "kind": "nina", "ars": "040120000000", "actors": ["stadt"], "interval": 1}, "warnings[0].interval"),
    ({"id": "x", "kind": "pegelonline", "stations": ["a"], "actors": ["stadt"], "levels": {"Hoch": 1}},
     "warnings[0].levels.Hoch"),
    ({"id": "x", "kind": "cap", "url": "file:///etc/passwd", "actors": ["stadt"]}, "warnings[0].url"),
    ({"id": "x", "kind": "dwd", "warncells": ["1"], "actors": ["stadt"], "colour": "red"}, "warnings[0].colour"),
])
def test_a_mistake_names_its_key(tmp_path, table, key):
    with pytest.raises(ConfigError) as raised:
        parse_config(config_dict(tmp_path, "sqlite+aiosqlite:///x", warnings=[table]), tmp_path, None, os.environ)
    assert str(raised.value).startswith(key)
