"""The loop the commands run on: uvloop where it is installed, asyncio's own where it is not (Windows)."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from bridge.cli import eventloop


async def _answer() -> tuple[str, int]:
    await asyncio.sleep(0)
    return eventloop.running_loop_name(), 42


@pytest.mark.skipif(importlib.util.find_spec("uvloop") is None, reason="uvloop has no build for this platform")
def test_runs_on_uvloop_where_it_is_installed():
    assert eventloop.run(_answer()) == ("uvloop", 42)


def test_falls_back_to_asyncio_without_uvloop(monkeypatch):
    monkeypatch.setattr(eventloop, "uvloop", None)
    assert eventloop.run(_answer()) == ("asyncio", 42)


def test_an_error_in_the_command_reaches_the_caller():
    async def failing() -> None:
        raise LookupError("no such account")

    with pytest.raises(LookupError, match="no such account"):
        eventloop.run(failing())
