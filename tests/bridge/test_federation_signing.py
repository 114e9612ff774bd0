"""The federation object owns the thread that helps sign deliveries, and closes it."""

from __future__ import annotations

import pytest

from bridge.federation import open_federation


async def test_the_signing_helper_is_made_per_federation_and_shut_down_on_close(config):
    federation = await open_federation(config, b"k" * 32)
    assert federation.signing is not None
    assert federation.signing.submit(lambda: 42).result() == 42
    await federation.close()
    with pytest.raises(RuntimeError):
        federation.signing.submit(lambda: 42)


async def test_no_helper_when_asked_for_none(config):
    federation = await open_federation(config, b"k" * 32, signing_threads=0)
    assert federation.signing is None
    await federation.close()


async def test_the_configured_number_of_helpers_is_used(make_config):
    none = await open_federation(make_config(federation={"signing_threads": 0}), b"k" * 32)
    two = await open_federation(make_config(federation={"signing_threads": 2}), b"k" * 32)
    assert none.signing is None and two.signing is not None and two.signing._max_workers == 2
    await none.close()
    await two.close()
