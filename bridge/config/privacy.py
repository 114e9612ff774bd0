"""Reading the `[retention]`, `[audit]` and `[register]` tables (issue 5, part A) into `bridge.config` objects.

Kept apart from `bridge.settings` so that module stays small; it receives that module's `Table` readers
(anything with `take`, `take_table`, `key`, `finish`), so each key is consumed and unknown keys still fail.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from bridge.config.model import AuditConfig, ConfigError, RegisterConfig, RetentionConfig

PRIVACY_SECTIONS = frozenset({"retention", "audit", "register"})
MAX_FULL_ADDRESS_DAYS = 7  # issue 5 / research: raw IPs at most a week
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_ACTIVITY_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ACTIVITY_TEXT = ("name", "purpose", "legal_basis", "law")
_ACTIVITY_LISTS = ("data_subjects", "data_categories", "recipients")


def parse_privacy_sections(root: Any) -> dict[str, Any]:
    return {"retention": _retention(root.take_table("retention")), "audit": _audit(root.take_table("audit")),
            "register": _register(root.take_table("register"))}


def _retention(t: Any) -> RetentionConfig:
    values: dict[str, Any] = {}
    for f in fields(RetentionConfig):
        if f.name == "run_at":
            continue
        values[f.name] = t.take(f.name, int, f.default)
        if values[f.name] < 1:
            raise ConfigError(t.key(f.name), "must be at least 1 (day)")
    if values["security_addresses_days"] > MAX_FULL_ADDRESS_DAYS:
        raise ConfigError(t.key("security_addresses_days"), f"at most {MAX_FULL_ADDRESS_DAYS}: full client "
                          "addresses are kept for a week at most, then truncated")
    run_at = t.take("run_at", str, RetentionConfig.run_at)
    if not _CLOCK.match(run_at):
        raise ConfigError(t.key("run_at"), f"must be a time of day \"HH:MM\", not {run_at!r}")
    t.finish()
    return RetentionConfig(**values, run_at=run_at)


def _audit(t: Any) -> AuditConfig:
    minutes = t.take_int("checkpoint_interval_minutes", AuditConfig.checkpoint_interval_minutes, 1, 1440)
    t.finish()
    return AuditConfig(minutes)


def _register(t: Any) -> RegisterConfig:
    texts = {f.name: t.take(f.name, str, None) for f in fields(RegisterConfig)
             if f.name not in ("measures", "activities")}
    measures = t.take("measures", list, [])
    if not all(isinstance(m, str) and m.strip() for m in measures):
        raise ConfigError(t.key("measures"), "must be a list of non-empty strings")
    activities = tuple(_activity(t.key(f"activities[{i}]"), item)
                       for i, item in enumerate(t.take("activities", list, [])))
    t.finish()
    return RegisterConfig(**texts, measures=tuple(measures), activities=activities)


def _activity(path: str, item: Any) -> dict:
    if not isinstance(item, dict):
        raise ConfigError(path, "must be a table")
    unknown = sorted(set(item) - {"id", *_ACTIVITY_TEXT, *_ACTIVITY_LISTS})
    if unknown:
        raise ConfigError(f"{path}.{unknown[0]}", "unknown key")
    if not isinstance(item.get("id"), str) or not _ACTIVITY_ID.match(item["id"]):
        raise ConfigError(f"{path}.id", "required: 1-64 lowercase letters, digits or _")
    for key in _ACTIVITY_TEXT:
        if key in item and not isinstance(item[key], str):
            raise ConfigError(f"{path}.{key}", "must be a string")
    for key in _ACTIVITY_LISTS:
        if key in item and not (isinstance(item[key], list) and all(isinstance(v, str) for v in item[key])):
            raise ConfigError(f"{path}.{key}", "must be a list of strings")
    return dict(item)
