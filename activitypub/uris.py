"""The one place where URIs are minted (GoToSocial's `uris` package).

Every URL Stadtbote publishes — actor, inbox, post permalink, feed — comes from `Uris`, so that a change
of layout is one edit and nothing else builds URLs by string concatenation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
INSTANCE_ACTOR_NAME = "instance.actor"


@dataclass(frozen=True)
class Uris:
    base_url: str  # without trailing slash, e.g. "https://stadt.example"

    @classmethod
    def for_base(cls, base_url: str) -> "Uris":
        return cls(base_url.rstrip("/"))

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # ActivityPub identities
    def actor(self, name: str) -> str:
        return self.url(f"/users/{quote(name)}")

    def key_id(self, name: str) -> str:
        return f"{self.actor(name)}#main-key"

    def inbox(self, name: str) -> str:
        return f"{self.actor(name)}/inbox"

    def outbox(self, name: str) -> str:
        return f"{self.actor(name)}/outbox"

    def followers(self, name: str) -> str:
        return f"{self.actor(name)}/followers"

    def following(self, name: str) -> str:
        return f"{self.actor(name)}/following"

    def featured(self, name: str) -> str:
        return f"{self.actor(name)}/collections/featured"

    def shared_inbox(self) -> str:
        return self.url("/inbox")

    def note(self, name: str, post_id: str) -> str:
        return f"{self.actor(name)}/statuses/{quote(post_id)}"

    def activity(self, name: str, post_id: str, verb: str) -> str:
        return f"{self.note(name, post_id)}/activity#{verb.lower()}"

    # Human-facing pages
    def profile(self, name: str) -> str:
        return self.url(f"/@{quote(name)}")

    def permalink(self, name: str, post_id: str) -> str:
        return f"{self.profile(name)}/{quote(post_id)}"

    def tag(self, tag: str) -> str:
        return self.url(f"/tags/{quote(tag)}")

    def media(self, filename: str) -> str:
        return self.url(f"/media/{quote(filename)}")

    def avatar(self, name: str) -> str:
        return self.url(f"/avatars/{quote(name)}.png")

    # Feeds: `suffix` is the format's file suffix ("rss", "atom", "json"); Mastodon-style paths.
    def feed(self, name: str, suffix: str) -> str:
        return f"{self.profile(name)}.{suffix}"

    def tag_feed(self, tag: str, suffix: str) -> str:
        return f"{self.tag(tag)}.{suffix}"

    def instance_feed(self, suffix: str) -> str:
        return self.url(f"/feed.{suffix}")

    def acct(self, name: str) -> str:
        return f"acct:{name}@{self.host}"

    # Activities that need an id of their own per occurrence (receivers drop repeated ids)
    def accept(self, name: str, activity_id: str) -> str:
        return f"{self.actor(name)}#accepts/{_digest(activity_id)}"

    def reject(self, name: str, activity_id: str) -> str:
        return f"{self.actor(name)}#rejects/{_digest(activity_id)}"

    def quote_authorization(self, name: str, authorization_id: str) -> str:
        return f"{self.actor(name)}/quote_authorizations/{quote(authorization_id)}"

    def outbox_page(self, name: str, *, max_id: str | None = None, min_id: str | None = None) -> str:
        """Mastodon-style outbox page URLs: `?page=true`, `?max_id=…&page=true`, `?min_id=…&page=true`."""
        if max_id is not None:
            return f"{self.outbox(name)}?max_id={quote(max_id)}&page=true"
        if min_id is not None:
            return f"{self.outbox(name)}?min_id={quote(min_id)}&page=true"
        return f"{self.outbox(name)}?page=true"

    def host_meta(self) -> str:
        return self.url("/.well-known/host-meta")

    def webfinger(self) -> str:
        return self.url("/.well-known/webfinger")

    def nodeinfo(self) -> str:
        return self.url("/nodeinfo/2.1")


def _digest(value: str) -> str:
    # Stable, short and opaque: the same remote activity always maps to the same answer id.
    return hashlib.sha256(value.encode()).hexdigest()[:24]
