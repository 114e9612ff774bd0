"""Finding a remote account from its handle, as Mastodon does for `@user@host` in a post: a WebFinger
lookup (RFC 7033) for the `self` link, then the actor document itself, both through the guard.

WebFinger is asked over https; plain http only where the guard allows it (development), and only after
https failed. The handle's host may delegate to another server (the `self` link points there).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import quote

from .fetch import FetchFailed, fetch_document, is_activitypub_content_type
from .guard import GuardedSession, RequestFailed, Response
from .jsonload import JsonRejected, load_json
from .profiles import ActorIn, parse_actor
from .signatures import Signer

_HANDLE = re.compile(r"^@?([A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?)$")
JRD = "application/jrd+json"


class LookupReason(enum.StrEnum):
    INVALID_HANDLE = "invalid_handle"
    WEBFINGER_FAILED = "webfinger_failed"  # unreachable, refused, not found or not a JRD
    NO_ACTOR_LINK = "no_actor_link"  # a JRD without an ActivityPub `self` link
    ACTOR_FETCH_FAILED = "actor_fetch_failed"
    NOT_AN_ACTOR = "not_an_actor"


@dataclass(frozen=True)
class LookupFailed:
    reason: LookupReason
    description: str


async def look_up_account(session: GuardedSession, handle: str, signer: Signer | None = None) -> ActorIn | LookupFailed:
    """The actor behind `user@host` (with or without a leading @). Never raises for remote misbehaviour."""
    match = _HANDLE.match(handle.strip())
    if match is None:
        return LookupFailed(LookupReason.INVALID_HANDLE, "not a user@host handle")
    user, host = match.groups()
    jrd = await _webfinger(session, user, host.lower())
    if isinstance(jrd, LookupFailed):
        return jrd
    href = actor_link(jrd)
    if href is None:
        return LookupFailed(LookupReason.NO_ACTOR_LINK, "WebFinger names no ActivityPub actor")
    fetched = await fetch_document(session, href, signer)
    if isinstance(fetched, FetchFailed):
        return LookupFailed(LookupReason.ACTOR_FETCH_FAILED, f"{fetched.reason}: {fetched.description}")
    actor = parse_actor(fetched.document)
    if not isinstance(actor, ActorIn):
        return LookupFailed(LookupReason.NOT_AN_ACTOR, "the linked document is not an actor")
    return actor


def actor_link(jrd: dict) -> str | None:
    """The `self` link of type activity+json (or ld+json with the AS profile), as Mastodon picks it."""
    links = jrd.get("links")
    for link in links if isinstance(links, list) else []:
        if (isinstance(link, dict) and link.get("rel") == "self" and isinstance(link.get("href"), str)
                and is_activitypub_content_type(link.get("type"))):
            return link["href"]
    return None


async def _webfinger(session: GuardedSession, user: str, host: str) -> dict | LookupFailed:
    resource = quote(f"acct:{user}@{host}", safe=":@")
    schemes = ("https", "http") if session.policy.http_allowed else ("https",)
    failure = "no scheme tried"
    for scheme in schemes:
        url = f"{scheme}://{host}/.well-known/webfinger?resource={resource}"
        response = await session.request("GET", url, headers={"Accept": f"{JRD}, application/json"})
        if isinstance(response, RequestFailed):
            failure = f"{response.reason}: {response.description}"
            continue
        return _jrd(response)
    return LookupFailed(LookupReason.WEBFINGER_FAILED, failure)


def _jrd(response: Response) -> dict | LookupFailed:
    if response.status != 200:
        return LookupFailed(LookupReason.WEBFINGER_FAILED, f"HTTP {response.status}")
    loaded = load_json(response.body)
    if isinstance(loaded, JsonRejected):
        return LookupFailed(LookupReason.WEBFINGER_FAILED, loaded.description)
    return loaded.value

