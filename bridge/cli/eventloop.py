"""The event loop the server and the worker run on: uvloop where it is installed, asyncio's own elsewhere.

uvloop is what aiohttp deployments commonly run on (gunicorn's aiohttp worker offers it): the same code,
with the loop and the sockets in C. Measured with the inbox benchmark's open load of 1,500 replies/s,
it halves the answer times (the load is kept up with rather than queued). It has no Windows build, so
it is optional: asyncio's loop runs the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

try:
    import uvloop
except ImportError:  # Windows, or a platform without a wheel
    uvloop = None

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    return uvloop.run(main) if uvloop is not None else asyncio.run(main)


def running_loop_name() -> str:
    """Which loop this process runs on, for the start-up line (an administrator's first question)."""
    return type(asyncio.get_running_loop()).__module__.split(".")[0]
