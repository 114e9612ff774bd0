"""Template filters shared by the editorial pages: times in the instance time zone, in the reader's language
(Babel's formats, e.g. "4. Dez. 2026, 17:30 MEZ"), and the words for codes (`bridge.web.labels`).

Rendering a time must never fail a page: a post scheduled for 9999-12-31 once made every page that listed it
answer 500. Whatever a row holds (naive or aware, either end of the calendar, None, a stored ISO string)
becomes a readable text."""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from functools import lru_cache

import jinja2
from aiohttp import web
from babel.dates import format_datetime, format_skeleton, format_time, get_datetime_format

from bridge.appkeys import TEMPLATES
from bridge.web.i18n import current_language
from bridge.web.labels import label_of



def _moment(value: object) -> datetime | date | None:
    """Datetimes and dates as they are, ISO strings (the export documents carry those) parsed; naive
    datetimes are UTC, as the database stores them."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    return value if isinstance(value, date) else None


def _in_zone(moment: datetime, zone: tzinfo) -> datetime:
    for target in (zone, timezone.utc):  # the zone's offset would leave year 1 or 9999: say it in UTC
        try:
            return moment.astimezone(target)
        except (OverflowError, ValueError):
            continue
    return moment  # not even UTC fits: in the zone it came with


def format_when(value: object, zone: tzinfo, language: str) -> str:
    """"4. Dez. 2026, 17:30 MEZ" (de) or "Dec 4, 2026, 5:30 PM CET" (en); "" for None; never raises."""
    moment = _moment(value)
    if moment is None:
        return "" if value is None else str(value)
    if not isinstance(moment, datetime):
        return format_day(moment, language)
    return _formatted(moment, zone, language)


@lru_cache(maxsize=4096)
def _formatted(moment: datetime, zone: tzinfo, language: str) -> str:
    # Babel's formatting is a third of what a post costs on an uncached page; the same moments recur on every
    # render of a timeline, so they are remembered (bounded; a few hundred bytes each).
    local = _in_zone(moment, zone)
    try:
        day = format_skeleton("yMMMd", local, tzinfo=local.tzinfo, locale=language)
        clock = format_time(local, "short", tzinfo=local.tzinfo, locale=language)
        zone_name = format_datetime(local, "z", tzinfo=local.tzinfo, locale=language)
        return get_datetime_format("medium", locale=language).replace("{1}", day).replace("{0}", clock) \
            + f" {zone_name}"
    except (OverflowError, ValueError, LookupError):
        return f"{local:%Y-%m-%d %H:%M} {local.tzname() or 'UTC'}"


def format_day(value: object, language: str) -> str:
    """A calendar day: "4. Dez. 2026"; a datetime gives its (UTC) day; "" for None; never raises."""
    moment = _moment(value)
    if moment is None:
        return "" if value is None else str(value)
    day = moment.date() if isinstance(moment, datetime) else moment
    try:
        return format_skeleton("yMMMd", day, locale=language)
    except (OverflowError, ValueError, LookupError):
        return day.isoformat()


def _zone(ctx) -> tzinfo:
    config = ctx.get("config")  # the CLI renders the register without one: UTC then
    return config.tz if config is not None else timezone.utc


@jinja2.pass_context
def localtime(ctx, value: object) -> str:
    """Editors think in the town's time, not in UTC; the zone name avoids any doubt."""
    return format_when(value, _zone(ctx), current_language())


def localday(value: object) -> str:
    return format_day(value, current_language())


def input_value(value: object, zone: tzinfo) -> str:
    """The value of an <input type="datetime-local">: local time without a zone ("%Y-%m-%dT%H:%M", any year;
    "" for what is no time)."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return ""
    return _in_zone(moment, zone).replace(tzinfo=None).isoformat(timespec="minutes")


@jinja2.pass_context
def input_time(ctx, value: object) -> str:
    return input_value(value, _zone(ctx))


def install(app: web.Application) -> None:
    """Idempotent, so every view module's setup may call it."""
    add_to(app[TEMPLATES])


def add_to(env: jinja2.Environment) -> None:
    """Also for environments without an app (the CLI's register)."""
    env.filters["localtime"] = localtime
    env.filters["localday"] = localday
    env.filters["input_time"] = input_time
    env.globals["label_of"] = label_of
