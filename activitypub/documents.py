"""Discovery documents: WebFinger JRD, host-meta XRD, NodeInfo 2.1, and parsing of `resource=`."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import quoteattr

from .uris import Uris

JRD = "application/jrd+json"
XRD = "application/xrd+xml"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_20 = "http://nodeinfo.diaspora.software/ns/schema/2.0"
NODEINFO_21_PROFILE = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def webfinger(uris: Uris, name: str, *, subscribe_template: str | None = None) -> dict[str, Any]:
    """JRD for `acct:name@host` with rel=self (activity+json) and the profile page."""
    links: list[dict[str, str]] = [
        {"rel": "self", "type": "application/activity+json", "href": uris.actor(name)},
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": uris.profile(name)},
    ]
    if subscribe_template:
        links.append({"rel": "http://ostatus.org/schema/1.0/subscribe", "template": subscribe_template})
    return {"subject": uris.acct(name), "aliases": [uris.actor(name), uris.profile(name)], "links": links}


def host_meta(uris: Uris) -> str:
    """XRD pointing at WebFinger (Mastodon uses it only after a WebFinger 404)."""
    template = quoteattr(uris.webfinger() + "?resource={uri}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="{XRD}" template={template}/>\n'
        "</XRD>\n"
    )


def nodeinfo_discovery(uris: Uris) -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_21, "href": uris.nodeinfo()}]}


@dataclass(frozen=True)
class Usage:
    """Deliberately coarse figures: the number of authority accounts and their posts, nothing on readers."""

    users_total: int
    active_month: int
    active_halfyear: int
    local_posts: int


def nodeinfo(version: str, usage: Usage, *, node_name: str | None = None, metadata: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """NodeInfo 2.1 (FEP-f1d5)."""
    meta = dict(metadata or {})
    if node_name:
        meta.setdefault("nodeName", node_name)
    return {
        "version": "2.1",
        "software": {"name": "stadtbote", "version": version,
                     "repository": "https://github.com/stadtbote/stadtbote"},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        "openRegistrations": False,
        "usage": {
            "users": {"total": usage.users_total, "activeMonth": usage.active_month,
                      "activeHalfyear": usage.active_halfyear},
            "localPosts": usage.local_posts,
        },
        "metadata": meta,
    }


class ResourceReason(enum.StrEnum):
    MISSING = "missing"
    MALFORMED = "malformed"
    OTHER_HOST = "other_host"
    UNKNOWN_FORM = "unknown_form"


@dataclass(frozen=True)
class ResourceName:
    """The local account name a WebFinger `resource` refers to (whether it exists is the caller's call)."""

    name: str


@dataclass(frozen=True)
class ResourceRejected:
    reason: ResourceReason
    description: str

    @property
    def status(self) -> int:
        return 404 if self.reason is ResourceReason.OTHER_HOST else 400


def parse_resource(resource: str | None, uris: Uris) -> ResourceName | ResourceRejected:
    """Accepts `acct:name@host`, `name@host`, `@name@host`, and our actor or profile URL."""
    if not resource:
        return ResourceRejected(ResourceReason.MISSING, "resource parameter is required")
    resource = resource.strip()
    if resource.lower().startswith(("https://", "http://")):
        return _parse_url(resource, uris)
    account = resource[5:] if resource.lower().startswith("acct:") else resource
    name, at, host = unquote(account).lstrip("@").rpartition("@")
    if not at or not name or not _NAME.match(name):
        return ResourceRejected(ResourceReason.MALFORMED, "expected acct:name@host")
    if host.lower().rstrip(".") != uris.host.lower():
        return ResourceRejected(ResourceReason.OTHER_HOST, "account is not on this server")
    return ResourceName(name)


def _parse_url(resource: str, uris: Uris) -> ResourceName | ResourceRejected:
    try:
        parts = urlsplit(resource)
        netloc = parts.netloc.lower()
    except ValueError:
        return ResourceRejected(ResourceReason.MALFORMED, "malformed URL")
    if netloc != uris.host.lower():
        return ResourceRejected(ResourceReason.OTHER_HOST, "URL is not on this server")
    match = re.fullmatch(r"/(?:users/|@)([^/]+)", parts.path)
    if match is None:
        return ResourceRejected(ResourceReason.UNKNOWN_FORM, "URL is not an actor or profile URL")
    name = unquote(match.group(1))
    if not _NAME.match(name) or resource.split("#")[0] not in (uris.actor(name), uris.profile(name)):
        return ResourceRejected(ResourceReason.UNKNOWN_FORM, "URL is not an actor or profile URL")
    return ResourceName(name)
