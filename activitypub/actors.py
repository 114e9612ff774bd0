"""Actor documents: an authority account (`Organization`) and the instance actor (`Application`).

Every field Mastodon reads is present (docs.joinmastodon.org/spec/activitypub#profile): name, summary,
url, icon, image, inbox, outbox, followers, following, featured, endpoints.sharedInbox, publicKey at
#main-key, discoverable, indexable, manuallyApprovesFollowers, published, PropertyValue attachments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .uris import INSTANCE_ACTOR_NAME, Uris
from .vocab import iso, with_context


@dataclass(frozen=True)
class ImageRef:
    url: str
    media_type: str = "image/png"


@dataclass(frozen=True)
class ProfileField:
    """A profile field; `value_html` is HTML, typically a link with rel="me" (verified by Mastodon)."""

    name: str
    value_html: str


@dataclass(frozen=True)
class ActorInput:
    name: str  # preferredUsername, e.g. "stadt"
    display_name: str
    summary_html: str
    public_key_pem: str
    published: datetime
    icon: ImageRef | None = None
    image: ImageRef | None = None
    fields: tuple[ProfileField, ...] = ()
    discoverable: bool = True
    indexable: bool = True
    kind: str = "Organization"
    attribution_domains: tuple[str, ...] = ()
    also_known_as: tuple[str, ...] = ()


def link_field(name: str, url: str) -> ProfileField:
    """A profile field linking to a page with rel="me" (Mastodon shows a check mark if it links back)."""
    label = url.split("://", 1)[-1].rstrip("/")
    return ProfileField(name, f'<a href="{_attr(url)}" rel="me nofollow noopener noreferrer" target="_blank">'
                              f"{_text(label)}</a>")


def actor_document(uris: Uris, actor: ActorInput) -> dict[str, Any]:
    actor_id = uris.actor(actor.name)
    document: dict[str, Any] = {
        "id": actor_id,
        "type": actor.kind,
        "preferredUsername": actor.name,
        "name": actor.display_name,
        "summary": actor.summary_html,
        "url": uris.profile(actor.name),
        "inbox": uris.inbox(actor.name),
        "outbox": uris.outbox(actor.name),
        "followers": uris.followers(actor.name),
        "following": uris.following(actor.name),
        "featured": uris.featured(actor.name),
        "endpoints": {"sharedInbox": uris.shared_inbox()},
        "manuallyApprovesFollowers": False,
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "published": iso(actor.published),
        "webfinger": f"{actor.name}@{uris.host}",  # FEP-2c59, read by Mastodon 4.6
        "publicKey": public_key(uris, actor.name, actor.public_key_pem),
        "attachment": [{"type": "PropertyValue", "name": f.name, "value": f.value_html} for f in actor.fields],
        "tag": [],
    }
    if actor.icon is not None:
        document["icon"] = {"type": "Image", "mediaType": actor.icon.media_type, "url": actor.icon.url}
    if actor.image is not None:
        document["image"] = {"type": "Image", "mediaType": actor.image.media_type, "url": actor.image.url}
    if actor.attribution_domains:
        document["attributionDomains"] = list(actor.attribution_domains)
    if actor.also_known_as:
        document["alsoKnownAs"] = list(actor.also_known_as)
    return with_context(document)


def instance_actor_document(uris: Uris, public_key_pem: str, published: datetime,
                            name: str = INSTANCE_ACTOR_NAME) -> dict[str, Any]:
    """The site-wide `Application` actor (FEP-2677) that signs our GETs; it must stay fetchable unsigned."""
    actor_id = uris.actor(name)
    return with_context({
        "id": actor_id,
        "type": "Application",
        "preferredUsername": name,
        "name": uris.host,
        "url": uris.url("/"),
        "inbox": uris.inbox(name),
        "outbox": uris.outbox(name),
        "endpoints": {"sharedInbox": uris.shared_inbox()},
        "manuallyApprovesFollowers": True,  # nobody follows the instance actor
        "discoverable": False,
        "indexable": False,
        "published": iso(published),
        "publicKey": public_key(uris, name, public_key_pem),
    })


def public_key(uris: Uris, name: str, pem: str) -> dict[str, str]:
    return {"id": uris.key_id(name), "owner": uris.actor(name), "publicKeyPem": pem}


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
