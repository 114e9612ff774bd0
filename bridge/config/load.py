"""Loading and validating the TOML config into `bridge.config` objects.

A small typed reader per table: each `take_*` call consumes one key, and whatever is left over at the
end is an unknown key — so a typo never silently falls back to a default.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.config.model import (
    ACTOR_NAME,
    ACTOR_TYPES,
    LANGUAGES,
    LOG_FORMATS,
    LOG_LEVELS,
    MEDIA_BACKENDS,
    QUOTE_POLICIES,
    ActorConfig,
    Config,
    ConfigError,
    ConsentConfig,
    DatabaseConfig,
    FederationConfig,
    FeedsConfig,
    InstanceConfig,
    LimitsConfig,
    LoggingConfig,
    MediaConfig,
    MetricsConfig,
    CacheConfig,
    PlatformConfig,
    PrivacyConfig,
    SEVERITIES,
    WARNING_KINDS,
    WarningSourceConfig,
    Secret,
)
from bridge.config.mail import STAFF_SECTIONS, parse_staff_sections
from bridge.config.privacy import PRIVACY_SECTIONS, parse_privacy_sections

PLATFORM_KINDS = ("bluesky", "mastodon", "facebook", "instagram", "threads", "linkedin", "x", "telegram", "xing",
                  "youtube")
_MISSING = object()


class Table:
    """One TOML table being read; remembers which keys were consumed."""

    def __init__(self, path: str, data: Any):
        if not isinstance(data, dict):
            raise ConfigError(path, f"must be a table, not {_type_name(data)}")
        self.path = path
        self.data = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def take(self, name: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is _MISSING:
                raise ConfigError(self.key(name), "required value is missing")
            return default
        value = self.data[name]
        # bool is an int in Python; a port of `true` is still a type error.
        if isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind):
            raise ConfigError(self.key(name), f"must be {_kind_name(kind)}, not a boolean")
        if not isinstance(value, kind):
            raise ConfigError(self.key(name), f"must be {_kind_name(kind)}, not {_type_name(value)}")
        return value

    def take_int(self, name: str, default: int, low: int, high: int | None = None) -> int:
        """An integer within [low, high] (no upper bound without `high`)."""
        value = self.take(name, int, default)
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise ConfigError(self.key(name), f"must be {bounds}")
        return value

    def take_url(self, name: str, default: Any = _MISSING) -> Any:
        value = self.take(name, str, default)
        if value is None:
            return None
        check_url(self.key(name), value)
        return value.rstrip("/")

    def take_table(self, name: str) -> "Table":
        return Table(self.key(name), self.take(name, dict, {}))

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ConfigError(self.key(unknown[0]), "unknown key")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", dict: "a table", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _type_name(value: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean", dict: "a table",
            list: "a list"}.get(type(value), type(value).__name__)


def check_url(path: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(path, f"malformed URL {value!r} (expected http:// or https:// with a host)")
    if parts.query or parts.fragment:
        raise ConfigError(path, f"malformed URL {value!r} (no query or fragment allowed)")


def resolve_secret(path: str, value: str, environ: dict[str, str]) -> Secret:
    """`env:NAME` reads the environment at start-up, so secrets need not sit in the file."""
    if value.startswith("env:"):
        name = value[4:]
        if not name:
            raise ConfigError(path, "env: reference without a variable name")
        if name not in environ:
            raise ConfigError(path, f"environment variable {name} is not set")
        return Secret(environ[name], source=f"env:{name}")
    return Secret(value)


def load_config(path: Path | str, environ: dict[str, str] | None = None) -> Config:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read config file ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML ({exc})") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ConfigError(str(path), "not valid TOML (values nest too deeply)") from None
    return parse_config(raw, path.resolve().parent, path, os.environ if environ is None else environ)


def parse_config(raw: dict, base_dir: Path, path: Path | None, environ: Any) -> Config:
    root = Table("", raw)
    known = {"instance", "database", "federation", "privacy", "limits", "actors", "platforms", "feeds", "consent",
             "metrics", "logging", "media", "cache", "warnings"}
    known |= PRIVACY_SECTIONS  # [retention], [register], [audit]: bridge.settings_privacy
    known |= STAFF_SECTIONS  # [mail], [security]: bridge.config.mail
    for key in raw:
        if key not in known:  # report a misspelt section before the missing values it causes
            raise ConfigError(key, "unknown key")
    instance = _instance(root.take_table("instance"), base_dir)
    database = _database(root.take_table("database"), instance, environ)
    federation = _federation(root.take_table("federation"))
    privacy = _privacy(root.take_table("privacy"))
    limits = _limits(root.take_table("limits"))
    actors = _actors(root, instance, base_dir)
    platforms = _platforms(root, environ)
    feeds = _feeds(root.take_table("feeds"))
    consent = _consent(root.take_table("consent"))
    privacy_sections = parse_privacy_sections(root)
    metrics = _metrics(root.take_table("metrics"))
    logging_config = _logging(root.take_table("logging"))
    media = _media(root.take_table("media"), environ)
    cache = _cache(root.take_table("cache"))
    staff_sections = parse_staff_sections(root, environ, resolve_secret)
    warning_sources = _warnings(root, actors)
    root.finish()
    return Config(path, instance, database, federation, privacy, limits, actors, platforms, feeds, consent,
                  **privacy_sections, **staff_sections, metrics=metrics, logging=logging_config, media=media,
                  cache=cache, warnings=warning_sources)


def _instance(t: Table, base_dir: Path) -> InstanceConfig:
    base_url = t.take_url("base_url")
    name = t.take("name", str)
    host, port = _host_port(t.key("listen"), t.take("listen", str, "127.0.0.1:8080"))
    data_dir = Path(t.take("data_dir", str, "data"))
    language = t.take("language", str, "de")
    if language not in LANGUAGES:
        raise ConfigError(t.key("language"), f"must be one of {', '.join(LANGUAGES)}")
    timezone = t.take("timezone", str, "Europe/Berlin")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(t.key("timezone"), f"unknown time zone {timezone!r}") from None
    idle = t.take_int("session_idle_minutes", 60, 1)
    proxies = _networks(t, "trusted_proxies")
    t.finish()
    return InstanceConfig(base_url, name, host, port,
                          data_dir if data_dir.is_absolute() else (base_dir / data_dir),
                          language, timezone, idle, proxies)


def _networks(t: Table, name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A list of networks in CIDR notation; a bare address is one host (/32 or /128)."""
    return tuple(_network(f"{t.key(name)}[{i}]", value) for i, value in enumerate(t.take(name, list, [])))


def _network(path: str, value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(value.strip() if isinstance(value, str) else "")
    except ValueError:
        raise ConfigError(path, f"not a network in CIDR notation: {value!r} "
                          "(e.g. \"10.0.0.0/8\" or \"127.0.0.1\")") from None


def _metrics(t: Table) -> MetricsConfig:
    allow = _networks(t, "allow") if "allow" in t.data else MetricsConfig.allow
    t.used.add("allow")
    listen = t.take("worker_listen", str, None)
    t.finish()
    return MetricsConfig(allow, None if listen is None else _host_port(t.key("worker_listen"), listen))


def _host_port(path: str, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(path, f"must be \"host:port\", not {value!r}")
    return host.strip("[]"), int(port)


def _logging(t: Table) -> LoggingConfig:
    level = t.take("level", str, LoggingConfig.level)
    if level not in LOG_LEVELS:
        raise ConfigError(t.key("level"), f"must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    form = t.take("format", str, LoggingConfig.format)
    if form not in LOG_FORMATS:
        raise ConfigError(t.key("format"), f"must be one of {', '.join(LOG_FORMATS)}, not {form!r}")
    access_log = t.take("access_log", bool, LoggingConfig.access_log)
    t.finish()
    return LoggingConfig(level, form, access_log)


def _media(t: Table, environ: Any) -> MediaConfig:
    backend = t.take("backend", str, MediaConfig.backend)
    if backend not in MEDIA_BACKENDS:
        raise ConfigError(t.key("backend"), f"must be one of {', '.join(MEDIA_BACKENDS)}, not {backend!r}")
    if backend == "local":
        t.finish()  # S3 keys beside backend = "local" are a mistake worth naming, not silently ignored
        return MediaConfig()
    endpoint = t.take_url("endpoint", None)
    bucket = t.take("bucket", str)
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise ConfigError(t.key("bucket"), f"not an S3 bucket name: {bucket!r} (3 to 63 of a-z, 0-9, . and -)")
    region = t.take("region", str, MediaConfig.region)
    access_key = resolve_secret(t.key("access_key"), t.take("access_key", str), environ)
    secret_key = resolve_secret(t.key("secret_key"), t.take("secret_key", str), environ)
    public_url = t.take_url("public_url", None)
    t.finish()
    return MediaConfig(backend, endpoint, bucket, region, access_key, secret_key, public_url)


def _database(t: Table, instance: InstanceConfig, environ: Any) -> DatabaseConfig:
    default = f"sqlite+aiosqlite:///{instance.data_dir / 'stadtbote.sqlite3'}"
    url = resolve_secret(t.key("url"), t.take("url", str, default), environ).value
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(t.key("url"), "must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    migrate = t.take("migrate_on_start", bool, True)
    t.finish()
    return DatabaseConfig(url, migrate)


MAX_SIGNING_PROCESSES = 8  # a worker's event loop cannot send for more than this


def _federation(t: Table) -> FederationConfig:
    allow = t.take("allow_private_addresses", bool, False)
    # `signing_threads` is its name from before signing moved to processes; the number means the same.
    old = t.take_int("signing_threads", 1, 0, MAX_SIGNING_PROCESSES)
    processes = t.take_int("signing_processes", old, 0, MAX_SIGNING_PROCESSES)
    t.finish()
    return FederationConfig(allow, processes)


def _privacy(t: Table) -> PrivacyConfig:
    urls = {k: t.take_url(k, None) for k in ("imprint_url", "privacy_url", "accessibility_url")}
    dpo = t.take("dpo_contact", str, None)
    texts = {k: t.take(k, str, None) for k in ("imprint_text", "privacy_text", "accessibility_text")}
    addresses = t.take("access_log_addresses", str, "omit")
    if addresses not in ("omit", "truncate"):
        raise ConfigError(t.key("access_log_addresses"), 'must be "omit" or "truncate"')
    t.finish()
    return PrivacyConfig(urls["imprint_url"], urls["privacy_url"], urls["accessibility_url"], dpo, **texts,
                         access_log_addresses=addresses)


def _feed_url(t: Table, name: str) -> str | None:
    """Like `take_url`, but a query string is allowed: many feeds are `…/rss.php?category=press`."""
    value = t.take(name, str, None)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ConfigError(t.key(name), f"malformed URL {value!r} (expected http:// or https:// with a host)")
    return value


def _feeds(t: Table) -> FeedsConfig:
    hub = t.take_url("websub_hub", None)
    interval = t.take_int("import_interval_minutes", 15, 1)
    cache = t.take_int("cache_seconds", 60, 0, 86400)
    t.finish()
    return FeedsConfig(hub, interval, cache)


def _cache(t: Table) -> CacheConfig:
    memory = t.take_int("memory_mb", CacheConfig.memory_mb, 0, 65536)
    recheck = t.take_int("recheck_ms", CacheConfig.recheck_ms, 0, 60000)
    page = t.take_int("page_seconds", CacheConfig.page_seconds, 0, 86400)
    document = t.take_int("document_seconds", CacheConfig.document_seconds, 0, 86400)
    t.finish()
    return CacheConfig(memory, recheck, page, document)


def _consent(t: Table) -> ConsentConfig:
    purpose = t.take("purpose", str, "public_replies")
    if not re.match(r"^[a-z0-9_]{1,64}$", purpose):
        raise ConfigError(t.key("purpose"), "use 1-64 lowercase letters, digits or _")
    texts = {k: t.take(k, str, getattr(ConsentConfig, k)).strip() for k in ("request_text_de", "request_text_en")}
    for key, text in texts.items():
        if not 20 <= len(text) <= 2000:
            raise ConfigError(t.key(key), "must have 20 to 2000 characters")
    t.finish()
    return ConsentConfig(purpose, **texts)


def _limits(t: Table) -> LimitsConfig:
    values = {
        "max_characters": t.take("max_characters", int, 500),
        "max_images": t.take("max_images", int, 4),
        "max_image_bytes": t.take("max_image_bytes", int, 10 * 1024 * 1024),
        "max_image_pixels": t.take("max_image_pixels", int, 33_177_600),
        "video_max_seconds": t.take("video_max_seconds", int, 600),
        "video_max_bytes": t.take("video_max_bytes", int, 200 * 1024 * 1024),
    }
    for key, value in values.items():
        if value < 1:
            raise ConfigError(t.key(key), "must be at least 1")
    if values["max_images"] > 4:
        raise ConfigError(t.key("max_images"), "at most 4 (Mastodon shows no more)")
    video = t.take("video", bool, False)
    t.finish()
    return LimitsConfig(**values, video=video)


def _actors(root: Table, instance: InstanceConfig, base_dir: Path) -> tuple[ActorConfig, ...]:
    items = root.take("actors", list, [])
    actors: list[ActorConfig] = []
    for i, item in enumerate(items):
        t = Table(f"actors[{i}]", item)
        name = t.take("name", str)
        if not ACTOR_NAME.match(name):
            raise ConfigError(t.key("name"), "use 1-30 lowercase letters, digits or _")
        if any(a.name == name for a in actors):
            raise ConfigError(t.key("name"), f"duplicate actor name {name!r}")
        kind = t.take("type", str, "Organization")
        if kind not in ACTOR_TYPES:
            raise ConfigError(t.key("type"), f"must be one of {', '.join(ACTOR_TYPES)}")
        actors.append(ActorConfig(
            name=name,
            display_name=t.take("display_name", str, name),
            summary=t.take("summary", str, ""),
            type=kind,
            require_approval=t.take("require_approval", bool, False),
            website=t.take_url("website", None),
            indexable=t.take("indexable", bool, True),
            import_feed_url=_feed_url(t, "import_feed_url"),
            import_backfill=t.take("import_backfill", bool, False),
            quote_policy=_quote_policy(t),
            avatar=_file(t, "avatar", base_dir),
            language=_language(t, instance.language),
        ))
        t.finish()
    return tuple(actors)


def _file(t: Table, name: str, base_dir: Path) -> Path | None:
    value = t.take(name, str, None)
    if value is None:
        return None
    path = Path(value) if Path(value).is_absolute() else base_dir / value
    if not path.is_file():
        raise ConfigError(t.key(name), f"file not found: {path}")
    return path


def _language(t: Table, default: str) -> str:
    language = t.take("language", str, default)
    if language not in LANGUAGES:
        raise ConfigError(t.key("language"), f"must be one of {', '.join(LANGUAGES)}")
    return language


def _quote_policy(t: Table) -> str:
    policy = t.take("quote_policy", str, "public")
    if policy not in QUOTE_POLICIES:
        raise ConfigError(t.key("quote_policy"), f"must be one of {', '.join(QUOTE_POLICIES)}")
    return policy


def _platforms(root: Table, environ: Any) -> tuple[PlatformConfig, ...]:
    items = root.take("platforms", list, [])
    result: list[PlatformConfig] = []
    for i, item in enumerate(items):
        t = Table(f"platforms[{i}]", item)
        pid = t.take("id", str)
        if any(p.id == pid for p in result):
            raise ConfigError(t.key("id"), f"duplicate platform id {pid!r}")
        kind = t.take("kind", str)
        if kind not in PLATFORM_KINDS:
            raise ConfigError(t.key("kind"), f"must be one of {', '.join(PLATFORM_KINDS)}")
        fixed = {"id", "kind", "api_base", "recipient", "country", "transfer_mechanism"}
        creds = {k: (resolve_secret(t.key(k), v, environ) if isinstance(v, str) else v)
                 for k, v in item.items() if k not in fixed}
        t.used.update(creds)
        result.append(PlatformConfig(pid, kind, t.take_url("api_base"), t.take("recipient", str),
                                     t.take("country", str), t.take("transfer_mechanism", str), creds))
        t.finish()
    return tuple(result)


WARNING_API_BASES = {"nina": "https://warnung.bund.de/api31", "dwd": "https://opendata.dwd.de/weather/alerts/cap",
                     "pegelonline": "https://www.pegelonline.wsv.de/webservices/rest-api/v2"}


def _warnings(root: Table, actors: tuple[ActorConfig, ...]) -> tuple[WarningSourceConfig, ...]:
    result: list[WarningSourceConfig] = []
    for i, item in enumerate(root.take("warnings", list, [])):
        t = Table(f"warnings[{i}]", item)
        sid = t.take("id", str)
        if not sid or len(sid) > 40 or any(s.id == sid for s in result):
            raise ConfigError(t.key("id"), f"must be a unique name of at most 40 characters, not {sid!r}")
        kind = t.take("kind", str)
        if kind not in WARNING_KINDS:
            raise ConfigError(t.key("kind"), f"must be one of {', '.join(WARNING_KINDS)}")
        names = tuple(t.take("actors", list))
        for name in names:
            if not any(a.name == name for a in actors):
                raise ConfigError(t.key("actors"), f"unknown account {name!r}")
        mode = t.take("mode", str, "publish")
        if mode not in ("publish", "draft"):
            raise ConfigError(t.key("mode"), "must be publish or draft")
        severity = t.take("min_severity", str, "Moderate")
        if severity not in SEVERITIES:
            raise ConfigError(t.key("min_severity"), f"must be one of {', '.join(SEVERITIES)}")
        source = WarningSourceConfig(
            sid, kind, t.take_url("api_base", WARNING_API_BASES.get(kind)) or "", names, mode, severity,
            t.take_int("interval", 120, 10), t.take_int("timeout", 15, 1, 120),
            tuple(str(x) for x in t.take("languages", list, ["de", "en"])), t.take("ars", str, None),
            tuple(str(x) for x in t.take("warncells", list, [])), t.take_url("url", None),
            tuple(str(x) for x in t.take("stations", list, [])), _levels(t))
        _check_warning_source(t, source)
        t.finish()
        result.append(source)
    return tuple(result)


def _levels(t: Table) -> tuple[tuple[str, int], ...]:
    levels = t.take("levels", dict, {})
    for severity, cm in levels.items():
        if severity not in SEVERITIES or isinstance(cm, bool) or not isinstance(cm, int):
            raise ConfigError(t.key(f"levels.{severity}"), "must map a CAP severity to a level in cm")
    return tuple(sorted(levels.items(), key=lambda pair: pair[1]))


def _check_warning_source(t: Table, source: WarningSourceConfig) -> None:
    needed = {"nina": ("ars", source.ars), "dwd": ("warncells", source.warncells), "cap": ("url", source.url),
              "pegelonline": ("stations", source.stations)}[source.kind]
    if not needed[1]:
        raise ConfigError(t.key(needed[0]), f"required for kind = {source.kind!r}")
    if source.ars is not None and not (len(source.ars) == 12 and source.ars.isdigit()):
        raise ConfigError(t.key("ars"), "must be the 12-digit Amtlicher Regionalschlüssel")
    if not source.api_base and source.kind != "cap":  # a CAP source has its `url` instead
        raise ConfigError(t.key("api_base"), "required value is missing")
