"""The fake warning sources on loopback, and a config whose `[[warnings]]` sources point at them."""

from __future__ import annotations

import pytest

from fakes.warnings import WarningSources


@pytest.fixture
async def sources(aiohttp_server) -> WarningSources:
    fake = WarningSources()
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url("")).rstrip("/")
    return fake


def source_tables(base: str, **overrides) -> list[dict]:
    tables = [
        {"id": "nina", "kind": "nina", "api_base": f"{base}/nina", "actors": ["stadt"], "ars": "040120000000",
         "interval": 60, "timeout": 2},
        {"id": "dwd", "kind": "dwd", "api_base": f"{base}/dwd", "actors": ["stadt"], "warncells": ["712345678"],
         "min_severity": "Severe", "timeout": 2},
        {"id": "kreis", "kind": "cap", "url": f"{base}/cap/feed.atom", "actors": ["stadt"], "timeout": 2},
        {"id": "pegel", "kind": "pegelonline", "api_base": f"{base}/pegel", "actors": ["stadt"],
         "stations": ["b3c5e1a2-0000-4c6e-9b1a-5f0e7a1d2c3b"], "levels": {"Moderate": 750, "Severe": 900},
         "timeout": 2},
    ]
    for table in tables:
        table.update(overrides.get(table["id"], {}))
    return tables


@pytest.fixture
def config(make_config, sources):
    return make_config(warnings=source_tables(sources.base))
