"""The one place where URIs are minted (GoToSocial's `uris` package).

Every URL Stadtbote publishes — actor, inbox, post permalink, feed — comes from `Uris`, so that a change
of layout is one edit and nothing else builds URLs by string concatenation.
"""

from __future__ import annotations

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

    def acct(self, name: str) -> str:
        return f"acct:{name}@{self.host}"
