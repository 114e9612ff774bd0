"""The [consent] section: defaults, validation, and config.example.toml documenting the real defaults."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bridge.config.model import ConfigError, ConsentConfig
from bridge.config.load import parse_config
from testkit import config_dict

EXAMPLE = Path(__file__).parents[3] / "config.example.toml"


def test_the_example_documents_the_default_texts_word_for_word():
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in ("request_text_de", "request_text_en"):
        found = re.search(rf'^# {key} = "(.*)"$', text, re.MULTILINE)
        assert found and found.group(1) == getattr(ConsentConfig, key), key
    assert re.search(r'^purpose = "public_replies"$', text, re.MULTILINE)


def test_consent_texts_and_purpose_can_be_configured_and_are_checked(tmp_path):
    raw = config_dict(tmp_path, "sqlite+aiosqlite:///x.db",
                      consent={"purpose": "show_on_website", "request_text_de": "Dürfen wir Ihre Antwort zeigen? JA/STOP",
                               "request_text_en": "May we show your reply? Answer YES or STOP"})
    config = parse_config(raw, tmp_path, None, os.environ)
    assert config.consent.purpose == "show_on_website" and config.consent.request_text_de.startswith("Dürfen")
    assert parse_config(config_dict(tmp_path, "sqlite+aiosqlite:///x.db"), tmp_path, None, os.environ).consent \
        == ConsentConfig()
    for bad, key in (({"purpose": "Show It"}, "consent.purpose"), ({"request_text_de": "kurz"}, "consent.request_text_de"),
                     ({"request_txt_en": "x" * 30}, "consent.request_txt_en")):
        with pytest.raises(ConfigError) as caught:
            parse_config(config_dict(tmp_path, "sqlite+aiosqlite:///x.db", consent=bad), tmp_path, None, os.environ)
        assert caught.value.path == key
