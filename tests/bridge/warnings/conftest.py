"""The fake warning sources on loopback, and a config whose `[[warnings]]` sources point at them."""

from __future__ import annotations

import pytest

from fakes.warnings import WarningSources, source_tables


@pytest.fixture
async def sources(aiohttp_server) -> WarningSources:
    fake = WarningSources()
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
def config(make_config, sources):
    return make_config(warnings=source_tables(sources.base))
