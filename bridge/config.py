"""Configuration: read once with tomllib into frozen objects and passed down; never a module global.

Every problem is a `ConfigError` naming the key path, so the CLI can print one line and exit 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ACTOR_NAME = re.compile(r"^[a-z0-9_]{1,30}$")
ACTOR_TYPES = ("Organization", "Service", "Application", "Group", "Person")
LANGUAGES = ("de", "en")


class ConfigError(Exception):
    """A config problem, phrased as `<key path>: <problem>`."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Secret:
    """A secret value; its repr never shows the value, so it cannot leak into logs or tracebacks."""

    value: str = field(repr=False)
    source: str = "inline"

    def __repr__(self) -> str:
        return f"Secret(<{self.source}>)"

    __str__ = __repr__


@dataclass(frozen=True)
class InstanceConfig:
    base_url: str
    name: str
    listen_host: str
    listen_port: int
    data_dir: Path
    language: str
    timezone: str
    session_idle_minutes: int

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = field(repr=False)


@dataclass(frozen=True)
class FederationConfig:
    allow_private_addresses: bool


@dataclass(frozen=True)
class ActorConfig:
    name: str
    display_name: str
    summary: str
    type: str
    require_approval: bool
    website: str | None


@dataclass(frozen=True)
class PrivacyConfig:
    imprint_url: str | None
    privacy_url: str | None
    accessibility_url: str | None
    dpo_contact: str | None


@dataclass(frozen=True)
class LimitsConfig:
    max_characters: int
    max_images: int
    max_image_bytes: int
    max_image_pixels: int


@dataclass(frozen=True)
class PlatformConfig:
    id: str
    kind: str
    api_base: str
    recipient: str
    country: str
    transfer_mechanism: str
    credentials: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Config:
    path: Path | None
    instance: InstanceConfig
    database: DatabaseConfig
    federation: FederationConfig
    privacy: PrivacyConfig
    limits: LimitsConfig
    actors: tuple[ActorConfig, ...]
    platforms: tuple[PlatformConfig, ...]

    def actor(self, name: str) -> ActorConfig | None:
        return next((a for a in self.actors if a.name == name), None)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.instance.timezone)
