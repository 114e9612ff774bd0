"""The replies a post's public page shows: exactly those the consent store allows (approved, consent
given for the configured purpose, no opt-out signal), minus servers the moderators blocked since."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.normalize import web_url
from bridge.config.model import Config
from bridge.delivery.domain_blocks import blocked_hosts
from bridge.web.public.views import date_label
from consent.display import shown_replies
from consent.vault import Vault


@dataclass(frozen=True)
class PublicReply:
    id: int
    author_name: str
    handle: str | None
    author_url: str
    url: str | None
    content: Markup  # sanitised with Mastodon's allow-list when it arrived
    received_at_iso: str
    received_label: str


async def public_replies(session: AsyncSession, vault: Vault, config: Config, post_id: int) -> list[PublicReply]:
    shown = await shown_replies(session, vault, post_id, config.consent.purpose)
    blocked = await blocked_hosts(session, {r.domain for r in shown})
    return [PublicReply(r.reply_id, r.author_name, r.handle, r.author_uri, web_url(r.url), Markup(r.content_html),
                        r.received_at.isoformat(), date_label(r.received_at, config))
            for r in shown if r.domain not in blocked]
