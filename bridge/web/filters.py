"""Template filters shared by the editorial pages: times in the instance time zone."""

from __future__ import annotations

from datetime import datetime

import jinja2
from aiohttp import web

from bridge.appkeys import TEMPLATES

INPUT_FORMAT = "%Y-%m-%dT%H:%M"


@jinja2.pass_context
def localtime(ctx, value: datetime | None) -> str:
    """Editors think in the town's time, not in UTC; the zone name avoids any doubt."""
    if value is None:
        return ""
    local = value.astimezone(ctx["config"].tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


@jinja2.pass_context
def input_time(ctx, value: datetime | None) -> str:
    """The value of an <input type="datetime-local">: local time without a zone."""
    if value is None:
        return ""
    return value.astimezone(ctx["config"].tz).strftime(INPUT_FORMAT)


def install(app: web.Application) -> None:
    """Idempotent, so every view module's setup may call it."""
    env = app[TEMPLATES]
    env.filters["localtime"] = localtime
    env.filters["input_time"] = input_time
