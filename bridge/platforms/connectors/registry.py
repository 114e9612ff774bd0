"""Which connector class serves each platform kind. A new platform is one module and one line here."""

from __future__ import annotations

from activitypub.guard import GuardedSession
from bridge.config.model import PlatformConfig
from bridge.platforms.connectors.base import AccountState, Clock, Connector
from bridge.platforms.connectors.bluesky import BlueskyConnector
from bridge.platforms.connectors.facebook import FacebookConnector
from bridge.platforms.connectors.instagram import InstagramConnector
from bridge.platforms.connectors.linkedin import LinkedInConnector
from bridge.platforms.connectors.mastodon import MastodonConnector
from bridge.platforms.connectors.telegram import TelegramConnector
from bridge.platforms.connectors.threads import ThreadsConnector
from bridge.platforms.connectors.x import XConnector
from bridge.platforms.connectors.xing import XingConnector
from bridge.platforms.connectors.youtube import YouTubeConnector

CONNECTORS: dict[str, type[Connector]] = {
    "bluesky": BlueskyConnector,
    "mastodon": MastodonConnector,
    "telegram": TelegramConnector,
    "facebook": FacebookConnector,
    "instagram": InstagramConnector,
    "threads": ThreadsConnector,
    "linkedin": LinkedInConnector,
    "x": XConnector,
    "xing": XingConnector,
    "youtube": YouTubeConnector,
}


def build(platform: PlatformConfig, http: GuardedSession, account: AccountState, clock: Clock,
          connectors: dict[str, type[Connector]] | None = None) -> Connector | None:
    """The connector for this account, or None when its kind has no connector yet."""
    cls = (connectors or CONNECTORS).get(platform.kind)
    return cls(platform, http, account, clock) if cls is not None else None
