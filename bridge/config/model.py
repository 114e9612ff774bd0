"""Configuration: read once with tomllib into frozen objects and passed down; never a module global.

Every problem is a `ConfigError` naming the key path, so the CLI can print one line and exit 2.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ACTOR_NAME = re.compile(r"^[a-z0-9_]{1,30}$")
ACTOR_TYPES = ("Organization", "Service", "Application", "Group", "Person")
LANGUAGES = ("de", "en")
QUOTE_POLICIES = ("public", "followers", "nobody")
# How long a reply is kept for moderation under the public task; a config key follows in a later issue.
REPLY_RETENTION = timedelta(days=180)


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
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (`bridge.web.clients`).
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = field(repr=False)
    # false: `serve` and `worker` refuse to start while migrations are pending (run `stadtbote db upgrade`)
    migrate_on_start: bool = True


@dataclass(frozen=True)
class FederationConfig:
    allow_private_addresses: bool
    # Processes that sign a worker's deliveries while its event loop sends them: 1 suits a worker that
    # has two cores to itself or shares them with little else; 0 when every worker process has one core.
    signing_processes: int = 1


@dataclass(frozen=True)
class ActorConfig:
    name: str
    display_name: str
    summary: str
    type: str
    require_approval: bool
    website: str | None
    # Public pages and feeds (issue 4): search engines may index the account's pages unless false.
    indexable: bool = True
    # An existing RSS/Atom feed (e.g. press releases) polled into posts; backfill posts its old items.
    import_feed_url: str | None = None
    import_backfill: bool = False
    # Who may quote this account's posts (FEP-044f): "public", "followers" or "nobody".
    quote_policy: str = "public"
    # Profile picture (a PNG or JPEG file, e.g. the city's coat of arms); served re-encoded at /avatars/.
    avatar: Path | None = None
    # Kept in the database (issue 19): set in the browser, or taken from the file on the first start.
    language: str = "de"  # the default language of the account's posts
    fields: tuple[tuple[str, str], ...] = ()  # up to four profile fields (label, text or https URL)
    avatar_file: str | None = None  # the re-encoded avatar and header image among the media files
    header_file: str | None = None
    retired: bool = False  # takes no more posts; archive, feeds and WebFinger stay
    moved_to: str | None = None  # the local account a retired department went to
    import_paused: bool = False  # the feed import is kept but not polled
    import_summary: bool = False  # an imported post carries the item's summary, not only title and link
    import_mirrors: tuple[str, ...] = ()  # platform ids every imported post is mirrored to

    @property
    def has_avatar(self) -> bool:
        return self.avatar is not None or self.avatar_file is not None


class AccountDirectory:
    """The accounts as the database has them, refreshed by `bridge.runtime.accounts` before each request and
    each job. Until the first refresh (a test, a CLI verb before the database is open) the file's accounts
    stand in. The only mutable part of a `Config`: accounts are created and changed in the browser."""

    def __init__(self) -> None:
        self.version: tuple[int, ...] | None = None
        self.accounts: dict[str, ActorConfig] | None = None
        self.platforms: tuple[PlatformConfig, ...] = ()  # connected in the browser, beside the file's

    def replace(self, version: tuple[int, ...], accounts: list[ActorConfig],
                platforms: list[PlatformConfig]) -> None:
        self.version, self.accounts, self.platforms = version, {a.name: a for a in accounts}, tuple(platforms)


@dataclass(frozen=True)
class PrivacyConfig:
    imprint_url: str | None
    privacy_url: str | None
    accessibility_url: str | None
    dpo_contact: str | None
    # Text of the public imprint, privacy notice and accessibility statement pages (optional; the
    # pages then show this text above the link to the configured URL).
    imprint_text: str | None = None
    privacy_text: str | None = None
    accessibility_text: str | None = None
    # Readers' addresses in the access log: "omit" (default) or "truncate" (IPv4 /20, IPv6 /44).
    access_log_addresses: str = "omit"


@dataclass(frozen=True)
class FeedsConfig:
    websub_hub: str | None = None  # WebSub hub advertised in feeds and pinged on publish
    import_interval_minutes: int = 15  # how often imported feeds are polled
    cache_seconds: int = 60  # Cache-Control max-age of feed responses


@dataclass(frozen=True)
class CacheConfig:
    memory_mb: int = 32  # rendered public documents kept in memory per process (LRU by bytes); 0: none
    recheck_ms: int = 1000  # how stale another process's change may be seen (versions are re-read after this)
    page_seconds: int = 60  # Cache-Control max-age of public pages, notes and outbox pages
    document_seconds: int = 180  # Cache-Control max-age of actors, WebFinger and NodeInfo


DEFAULT_CONSENT_TEXT_DE = (
    "Guten Tag! Wir möchten Ihre Antwort auf unseren Beitrag auf unserer eigenen Website öffentlich zeigen, "
    "mit Ihrem Namen und einem Link zu Ihrem Profil. Das tun wir nur, wenn Sie zustimmen. Wenn Sie "
    "einverstanden sind, antworten Sie auf diese Nachricht mit JA. Ohne Antwort zeigen wir nichts. "
    "Sie können jederzeit mit STOP oder über den Link unten widerrufen; die Antwort verschwindet dann sofort."
)
DEFAULT_CONSENT_TEXT_EN = (
    "Hello! We would like to show your reply to our post publicly on our own website, with your name and a "
    "link to your profile. We only do this if you agree. If you do, answer this message with YES. Without "
    "an answer nothing is shown. You can withdraw at any time with STOP or through the link below; the "
    "reply then disappears at once."
)


@dataclass(frozen=True)
class ConsentConfig:
    """The request for consent sent as a direct message (issue 5): its texts in German and English and
    the purpose recorded in every receipt. Changing a text makes a new version (a new SHA-256)."""

    purpose: str = "public_replies"
    request_text_de: str = DEFAULT_CONSENT_TEXT_DE
    request_text_en: str = DEFAULT_CONSENT_TEXT_EN


@dataclass(frozen=True)
class LimitsConfig:
    max_characters: int
    max_images: int
    max_image_bytes: int
    max_image_pixels: int
    video: bool = False
    video_max_seconds: int = 600
    video_max_bytes: int = 200 * 1024 * 1024

    @property
    def upload_bytes(self) -> int:
        """The largest file one upload may bring: an image, or a video where video is on."""
        return max(self.max_image_bytes, self.video_max_bytes if self.video else 0)

    @property
    def upload_files(self) -> int:
        """File parts one form may bring: the images, or a video with its captions file."""
        return max(self.max_images, 2 if self.video else 0)

    @property
    def upload_body_bytes(self) -> int:
        return max(self.max_images * self.max_image_bytes, self.video_max_bytes + 1024 * 1024 if self.video else 0)


@dataclass(frozen=True)
class PlatformConfig:
    id: str
    kind: str
    api_base: str
    recipient: str
    country: str
    transfer_mechanism: str
    credentials: dict[str, Any] = field(repr=False)


WARNING_KINDS = ("nina", "dwd", "cap", "pegelonline")
SEVERITIES = ("Minor", "Moderate", "Severe", "Extreme")  # CAP 1.2, in rising order


@dataclass(frozen=True)
class WarningSourceConfig:
    """One `[[warnings]]` source of official warnings (`bridge.warnings`)."""

    id: str
    kind: str  # one of WARNING_KINDS
    api_base: str
    actors: tuple[str, ...]
    mode: str = "publish"  # or "draft": into the approval queue
    min_severity: str = "Moderate"
    interval: int = 120  # seconds between polls
    timeout: int = 15  # seconds one poll may take
    languages: tuple[str, ...] = ("de", "en")
    ars: str | None = None  # nina: the district's Amtlicher Regionalschlüssel
    warncells: tuple[str, ...] = ()  # dwd
    url: str | None = None  # cap: one CAP document or an Atom/RSS index of them
    stations: tuple[str, ...] = ()  # pegelonline: uuid or name
    levels: tuple[tuple[str, int], ...] = ()  # pegelonline: (severity, cm) thresholds; else the station's own


@dataclass(frozen=True)
class RetentionConfig:
    """Days each data category is kept (issue 5); documented in config.example.toml, shown in the register."""

    replies_days: int = 180
    platform_replies_days: int = 180
    inactive_people_days: int = 30
    inbound_dedupe_days: int = 7
    security_addresses_days: int = 7
    security_log_days: int = 90
    reports_days: int = 180
    closed_requests_days: int = 1095
    finished_jobs_days: int = 14
    run_at: str = "03:30"  # local time of the daily retention run


@dataclass(frozen=True)
class AuditConfig:
    checkpoint_interval_minutes: int = 60  # how often the audit log's checkpoint is signed


@dataclass(frozen=True)
class RegisterConfig:
    """Art. 30 register fields that only the authority knows; activities override the built-in ones by id."""

    controller_name: str | None = None
    controller_address: str | None = None
    controller_contact: str | None = None
    representative: str | None = None
    dpo_name: str | None = None
    dpo_contact: str | None = None
    public_task_law: str | None = None  # the state-law norm behind Art. 6(1)(e) (Art. 6(3))
    audit_log_retention: str | None = None
    measures: tuple[str, ...] = ()
    activities: tuple[dict, ...] = ()


@dataclass(frozen=True)
class MailConfig:
    """`[mail]`: the SMTP server staff e-mail goes through; without `smtp_url` nothing is sent."""

    host: str | None = None
    port: int = 25
    tls: bool = False  # smtps://: TLS from the first byte
    starttls: bool = True  # smtp://: upgrade with STARTTLS (refused if the server does not offer it)
    sender: str = ""
    username: str | None = None
    password: Secret | None = field(default=None, repr=False)
    timeout_seconds: int = 30

    @property
    def enabled(self) -> bool:
        return self.host is not None


@dataclass(frozen=True)
class SecurityConfig:
    # Roles that must sign in with a second factor (TOTP); they enrol at their next sign-in. Empty unless
    # configured, so an upgrade locks nobody out before the admins know (config.example.toml turns it on).
    require_second_factor: tuple[str, ...] = ()


LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class MetricsConfig:
    # Client addresses (as `bridge.web.clients` finds them) that may read `GET /metrics`; others get 404.
    allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = LOOPBACK
    # "host:port" where a `stadtbote worker` process answers `GET /metrics` with its own counters
    # (deliveries by outcome); None: it answers nowhere. `serve` reports them of its built-in worker.
    worker_listen: tuple[str, int] | None = None


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "info"  # one of LOG_LEVELS
    format: str = "text"  # one of LOG_FORMATS; "json": one object per line
    access_log: bool = True  # one line per request (its addresses: `[privacy] access_log_addresses`)


MEDIA_BACKENDS = ("local", "s3")


@dataclass(frozen=True)
class MediaConfig:
    """Where images are kept (`bridge.runtime.media_storage`): data_dir on this machine, or one S3 bucket that
    every `serve` and `worker` process shares (scale-out)."""

    backend: str = "local"  # one of MEDIA_BACKENDS
    endpoint: str | None = None  # S3-compatible service (MinIO, Ceph, a cloud); None: Amazon's default
    bucket: str = ""
    region: str = "us-east-1"
    access_key: Secret | None = None
    secret_key: Secret | None = None
    # Where readers may fetch public images directly (a host of the authority in front of the bucket);
    # None: `serve` streams them from the bucket, so readers only ever talk to base_url.
    public_url: str | None = None


@dataclass(frozen=True)
class Config:
    path: Path | None
    instance: InstanceConfig
    database: DatabaseConfig
    federation: FederationConfig
    privacy: PrivacyConfig
    limits: LimitsConfig
    # The [[actors]] of the file: created on the first start, from then on changed in the database.
    file_actors: tuple[ActorConfig, ...]
    # The [[platforms]] of the file (with `env:` secrets); those connected in the browser are in `accounts`.
    file_platforms: tuple[PlatformConfig, ...]
    feeds: FeedsConfig = FeedsConfig()
    consent: ConsentConfig = ConsentConfig()
    retention: RetentionConfig = RetentionConfig()
    register: RegisterConfig = RegisterConfig()
    audit: AuditConfig = AuditConfig()
    metrics: MetricsConfig = MetricsConfig()
    logging: LoggingConfig = LoggingConfig()
    media: MediaConfig = MediaConfig()
    cache: CacheConfig = CacheConfig()
    mail: MailConfig = MailConfig()
    security: SecurityConfig = SecurityConfig()
    warnings: tuple[WarningSourceConfig, ...] = ()
    accounts: AccountDirectory = field(default_factory=AccountDirectory, compare=False, repr=False)

    @property
    def actors(self) -> tuple[ActorConfig, ...]:
        """Every account of the instance, retired ones included (they keep answering WebFinger)."""
        if self.accounts.accounts is None:
            return self.file_actors
        return tuple(self.accounts.accounts.values())

    @property
    def platforms(self) -> tuple[PlatformConfig, ...]:
        return self.file_platforms + self.accounts.platforms

    def with_actors(self, actors: tuple[ActorConfig, ...]) -> "Config":
        """A copy whose accounts are `actors`, fixed (not refreshed): a job's view with changed settings."""
        directory = AccountDirectory()
        directory.replace(self.accounts.version or (), list(actors), list(self.accounts.platforms))
        return replace(self, file_actors=actors, accounts=directory)

    def actor(self, name: str) -> ActorConfig | None:
        if self.accounts.accounts is None:
            return next((a for a in self.file_actors if a.name == name), None)
        return self.accounts.accounts.get(name)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.instance.timezone)
