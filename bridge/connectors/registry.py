"""Which connector class serves each platform kind. A new platform is one module and one line here."""

from __future__ import annotations

from activitypub.guard import GuardedSession
from bridge.config import PlatformConfig
from bridge.connectors.base import AccountState, Clock, Connector
from bridge.connectors.bluesky import BlueskyConnector
from bridge.connectors.facebook import FacebookConnector
from bridge.connectors.instagram import InstagramConnector
from bridge.connectors.linkedin import LinkedInConnector
from bridge.connectors.mastodon import MastodonConnector
from bridge.connectors.telegram import TelegramConnector
from bridge.connectors.threads import ThreadsConnector
from bridge.connectors.x import XConnector

CONNECTORS: dict[str, type[Connector]] = {
    "bluesky": BlueskyConnector,
    "mastodon": MastodonConnector,
    "telegram": TelegramConnector,
    "facebook": FacebookConnector,
    "instagram": InstagramConnector,
    "threads": ThreadsConnector,
    "linkedin": LinkedInConnector,
    "x": XConnector,
}


def build(platform: PlatformConfig, http: GuardedSession, account: AccountState, clock: Clock,
          connectors: dict[str, type[Connector]] | None = None) -> Connector | None:
    """The connector for this account, or None when its kind has no connector yet."""
    cls = (connectors or CONNECTORS).get(platform.kind)
    return cls(platform, http, account, clock) if cls is not None else None
