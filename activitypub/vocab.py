"""ActivityStreams vocabulary: the JSON-LD context and builders for activities and collections.

Builders return JSON-ready dicts. Actor documents are in `actors`, Notes in `notes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from .uris import PUBLIC, Uris

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"

# The Mastodon extension terms we use (Mastodon's own context, plus FEP-044f quote terms as in 4.5).
EXTENSIONS: dict[str, Any] = {
    "toot": "http://joinmastodon.org/ns#",
    "schema": "http://schema.org#",
    "gts": "https://gotosocial.org/ns#",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "blurhash": "toot:blurhash",
    "votersCount": "toot:votersCount",
    # Events as Mobilizon describes them (its own context's terms; Gancio reads the same)
    "ical": "http://www.w3.org/2002/12/cal/ical#",
    "mz": "https://joinmobilizon.org/ns#",
    "PostalAddress": "schema:PostalAddress",
    "address": {"@id": "schema:address", "@type": "schema:PostalAddress"},
    "streetAddress": "schema:streetAddress",
    "postalCode": "schema:postalCode",
    "addressLocality": "schema:addressLocality",
    "isOnline": "mz:isOnline",
    "timezone": "mz:timezone",
    "joinMode": "mz:joinMode",
    "anonymousParticipationEnabled": "mz:anonymousParticipationEnabled",
    "commentsEnabled": "pt:commentsEnabled",
    "pt": "https://joinpeertube.org/ns#",
    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
    "attributionDomains": {"@id": "toot:attributionDomains", "@type": "@id"},
    "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
    "canQuote": {"@id": "gts:canQuote", "@type": "@id"},
    "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
    "manualApproval": {"@id": "gts:manualApproval", "@type": "@id"},
    "quote": {"@id": "https://w3id.org/fep/044f#quote", "@type": "@id"},
    "QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest",
    "QuoteAuthorization": "https://w3id.org/fep/044f#QuoteAuthorization",
    "interactingObject": {"@id": "gts:interactingObject", "@type": "@id"},
    "interactionTarget": {"@id": "gts:interactionTarget", "@type": "@id"},
}
CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, EXTENSIONS]


def iso(moment: datetime) -> str:
    """xsd:dateTime in UTC with a Z, second precision (what Mastodon emits)."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def with_context(document: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, **{k: v for k, v in document.items() if k != "@context"}}


def public_audience(uris: Uris, name: str, mentions: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """`to: [Public]`, `cc: [followers, *mentioned actors]` (Mastodon's public visibility)."""
    cc = [uris.followers(name)] + [m for m in dict.fromkeys(mentions) if m != uris.followers(name)]
    return [PUBLIC], cc


# ---------------------------------------------------------------- activities


def create(uris: Uris, name: str, post_id: str, note: dict[str, Any]) -> dict[str, Any]:
    return with_context({
        "id": uris.activity(name, post_id, "create"),
        "type": "Create",
        "actor": uris.actor(name),
        "published": note.get("published"),
        "to": note.get("to", [PUBLIC]),
        "cc": note.get("cc", []),
        "object": _without_context(note),
    })


def update(uris: Uris, name: str, obj: dict[str, Any], updated: datetime) -> dict[str, Any]:
    """Update of a Note (which must carry `updated`, or Mastodon ignores the edit) or of the actor.

    Every edit gets its own activity id (`…#updates/<unix time>`), since receivers drop repeated ids.
    """
    return with_context({
        "id": f"{obj['id']}#updates/{int(updated.timestamp())}",
        "type": "Update",
        "actor": uris.actor(name),
        "published": iso(updated),
        "to": obj.get("to", [PUBLIC]),
        "cc": obj.get("cc", []),
        "object": _without_context(obj),
    })


def featured_change(uris: Uris, name: str, post_id: str, pinned: bool, changed: datetime) -> dict[str, Any]:
    """`Add` (pin) or `Remove` (unpin) of one of our Notes to the account's featured collection, Mastodon's
    way of telling followers' servers about pins; each change has its own id."""
    kind = "Add" if pinned else "Remove"
    return with_context({
        "id": f"{uris.note(name, post_id)}#{kind.lower()}/{int(changed.timestamp())}",
        "type": kind,
        "actor": uris.actor(name),
        "to": [PUBLIC],
        "cc": [uris.followers(name)],
        "object": uris.note(name, post_id),
        "target": uris.featured(name),
    })


def tombstone(object_id: str, former_type: str | None = "Note", deleted: datetime | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"id": object_id, "type": "Tombstone"}
    if former_type:
        document["formerType"] = former_type
    if deleted is not None:
        document["deleted"] = iso(deleted)
    return document


def delete(uris: Uris, name: str, post_id: str, cc: Sequence[str] = ()) -> dict[str, Any]:
    """Delete of one of our Notes, with a Tombstone (Mastodon's shape)."""
    return with_context({
        "id": uris.activity(name, post_id, "delete"),
        "type": "Delete",
        "actor": uris.actor(name),
        "to": [PUBLIC],
        "cc": [uris.followers(name), *cc],
        "object": tombstone(uris.note(name, post_id)),
    })


def delete_actor(uris: Uris, name: str) -> dict[str, Any]:
    return with_context({
        "id": f"{uris.actor(name)}#delete",
        "type": "Delete",
        "actor": uris.actor(name),
        "to": [PUBLIC],
        "object": uris.actor(name),
    })


def follow(activity_id: str, actor: str, target: str) -> dict[str, Any]:
    return with_context({"id": activity_id, "type": "Follow", "actor": actor, "object": target})


def accept(activity_id: str, actor: str, accepted: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Accept with the accepted activity embedded, its original `id` kept (Mastodon matches on it)."""
    return with_context({"id": activity_id, "type": "Accept", "actor": actor, "object": _without_context(accepted),
                         **extra})


def reject(activity_id: str, actor: str, rejected: dict[str, Any]) -> dict[str, Any]:
    return with_context({"id": activity_id, "type": "Reject", "actor": actor, "object": _without_context(rejected)})


def undo(activity_id: str, actor: str, undone: dict[str, Any]) -> dict[str, Any]:
    return with_context({"id": activity_id, "type": "Undo", "actor": actor, "object": _without_context(undone)})


def like(activity_id: str, actor: str, object_id: str) -> dict[str, Any]:
    return with_context({"id": activity_id, "type": "Like", "actor": actor, "object": object_id})


def announce(activity_id: str, actor: str, object_id: str, published: datetime,
             to: Sequence[str] = (PUBLIC,), cc: Sequence[str] = ()) -> dict[str, Any]:
    return with_context({"id": activity_id, "type": "Announce", "actor": actor, "published": iso(published),
                         "to": list(to), "cc": list(cc), "object": object_id})


def accept_follow(uris: Uris, name: str, follow_activity: dict[str, Any]) -> dict[str, Any]:
    embedded = {k: follow_activity[k] for k in ("id", "type", "actor", "object") if k in follow_activity}
    return accept(uris.accept(name, str(follow_activity.get("id", ""))), uris.actor(name), embedded)


def quote_authorization(uris: Uris, name: str, authorization_id: str, quoting_post: str,
                        quoted_post: str) -> dict[str, Any]:
    """FEP-044f QuoteAuthorization; the bridge must serve it at its id (it is dereferenced)."""
    return with_context({
        "id": uris.quote_authorization(name, authorization_id),
        "type": "QuoteAuthorization",
        "attributedTo": uris.actor(name),
        "interactingObject": quoting_post,
        "interactionTarget": quoted_post,
    })


def accept_quote(uris: Uris, name: str, request: dict[str, Any], authorization_id: str) -> dict[str, Any]:
    embedded = {k: request[k] for k in ("id", "type", "actor", "object", "instrument") if k in request}
    return accept(uris.accept(name, str(request.get("id", ""))), uris.actor(name), embedded,
                  result=uris.quote_authorization(name, authorization_id))


def reject_quote(uris: Uris, name: str, request: dict[str, Any]) -> dict[str, Any]:
    embedded = {k: request[k] for k in ("id", "type", "actor", "object", "instrument") if k in request}
    return reject(uris.reject(name, str(request.get("id", ""))), uris.actor(name), embedded)


# ---------------------------------------------------------------- collections


def ordered_collection(collection_id: str, total: int, *, first: str | None = None, last: str | None = None,
                       items: Sequence[Any] | None = None) -> dict[str, Any]:
    """A collection; followers/following are published with `totalItems` only (no listing of citizens)."""
    document: dict[str, Any] = {"id": collection_id, "type": "OrderedCollection", "totalItems": total}
    if first is not None:
        document["first"] = first
    if last is not None:
        document["last"] = last
    if items is not None:
        document["orderedItems"] = list(items)
    return with_context(document)


def ordered_collection_page(page_id: str, part_of: str, items: Sequence[Any], *, next_page: str | None = None,
                            prev_page: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"id": page_id, "type": "OrderedCollectionPage", "partOf": part_of}
    if next_page is not None:
        document["next"] = next_page
    if prev_page is not None:
        document["prev"] = prev_page
    document["orderedItems"] = [_without_context(i) if isinstance(i, dict) else i for i in items]
    return with_context(document)


def _without_context(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "@context"}
