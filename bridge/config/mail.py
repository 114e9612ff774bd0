"""The `[mail]` and `[security]` sections: how staff are written to, and who must sign in with a second factor."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from bridge.config.model import ConfigError, MailConfig, SecurityConfig

ROLES = ("admin", "editor", "dpo")  # the store's roles; config sits beside the store and cannot import it

STAFF_SECTIONS = frozenset({"mail", "security"})


def parse_staff_sections(root: Any, environ: Any, resolve_secret) -> dict[str, Any]:
    return {"mail": _mail(root.take_table("mail"), environ, resolve_secret),
            "security": _security(root.take_table("security"))}


def _mail(t: Any, environ: Any, resolve_secret) -> MailConfig:
    url = t.take("smtp_url", str, "")
    sender = t.take("from", str, "")
    starttls = t.take("starttls", bool, True)
    timeout = t.take_int("timeout_seconds", MailConfig.timeout_seconds, 1, 300)
    username = t.take("username", str, "")
    password = t.take("password", str, "")
    t.finish()
    if not url:
        return MailConfig()
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(t.key("smtp_url"), f"must be smtp://host[:port] or smtps://host[:port], not {url!r}")
    if parts.password:  # a password in the file is where it leaks: in backups and in `ps` of editors
        raise ConfigError(t.key("smtp_url"), "put the password in [mail] password (env:NAME), not in the URL")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise ConfigError(t.key("smtp_url"), "the port must be a number between 0 and 65535") from None
    if "@" not in sender:
        raise ConfigError(t.key("from"), "an address such as \"Stadtbote <stadtbote@stadt.example>\" is required")
    user = username or unquote(parts.username or "")
    secret = resolve_secret(t.key("password"), password, environ) if password else None
    return MailConfig(parts.hostname, port, parts.scheme == "smtps", starttls and parts.scheme == "smtp",
                      sender, user or None, secret, timeout)


def _security(t: Any) -> SecurityConfig:
    roles = t.take("require_second_factor", list, list(SecurityConfig.require_second_factor))
    for i, role in enumerate(roles):
        if role not in ROLES:
            raise ConfigError(f"{t.key('require_second_factor')}[{i}]", "must be admin, editor or dpo")
    t.finish()
    return SecurityConfig(tuple(roles))

