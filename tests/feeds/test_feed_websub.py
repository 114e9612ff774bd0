"""WebSub publish pings: one form per topic, ready for the bridge's guarded client to POST."""

from __future__ import annotations

import pytest

from feeds.websub import HubPing, hub_ping_form, hub_ping_forms

HUB = "https://hub.example/"


def test_one_ping_per_distinct_topic():
    pings = hub_ping_forms(HUB, ["https://s.example/@a.rss", "https://s.example/@a.atom", "https://s.example/@a.rss", ""])
    assert pings == (
        HubPing(HUB, {"hub.mode": "publish", "hub.url": "https://s.example/@a.rss"}),
        HubPing(HUB, {"hub.mode": "publish", "hub.url": "https://s.example/@a.atom"}),
    )


def test_single_topic_form():
    assert hub_ping_form(HUB, "https://s.example/@a.rss") == {"hub.mode": "publish", "hub.url": "https://s.example/@a.rss"}


def test_hub_must_be_http():
    with pytest.raises(ValueError):
        hub_ping_forms("file:///etc/passwd", ["https://s.example/@a.rss"])
