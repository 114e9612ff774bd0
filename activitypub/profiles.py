"""Remote actor documents parsed into what the bridge keeps, including the opt-out signals consent needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .normalize import ACTOR_TYPES, as_list, id_of, text_of, type_of, url_of
from .origins import same_origin

OPT_OUT_TAGS = frozenset({"nobot", "nobridge", "noindex", "nosearch", "noarchive"})
_HASHTAG = re.compile(r"#(\w+)", re.UNICODE)


@dataclass(frozen=True)
class ActorIn:
    id: str
    type: str
    preferred_username: str | None
    name: str | None
    summary_html: str | None
    url: str | None
    inbox: str | None
    shared_inbox: str | None
    key_id: str | None
    public_key_pem: str | None
    discoverable: bool | None  # None: the actor did not say
    indexable: bool | None
    opt_out_tags: frozenset[str]  # #nobot, #nobridge, #noindex … found in tags or bio
    hides_to_public: bool  # GoToSocial hidesToPublicFromUnauthedWeb
    hides_cc_public: bool


@dataclass(frozen=True)
class ActorRejected:
    description: str


def parse_actor(document: Any) -> ActorIn | ActorRejected:
    """Parse an actor document (from a fetch or an Update); never raises."""
    if not isinstance(document, dict):
        return ActorRejected("actor is not an object")
    actor_id, kind = id_of(document.get("id")), type_of(document)
    if not actor_id or kind not in ACTOR_TYPES:
        return ActorRejected("not an actor document")
    key_id, pem = _key(document, actor_id)
    endpoints = document.get("endpoints")
    shared = id_of(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
    return ActorIn(
        id=actor_id,
        type=kind,
        preferred_username=text_of(document.get("preferredUsername")),
        name=text_of(document.get("name")),
        summary_html=text_of(document.get("summary")),
        url=url_of(document.get("url")),
        inbox=id_of(document.get("inbox")),
        shared_inbox=shared,
        key_id=key_id,
        public_key_pem=pem,
        discoverable=_flag(document.get("discoverable")),
        indexable=_flag(document.get("indexable")),
        opt_out_tags=opt_out_tags(document),
        hides_to_public=document.get("hidesToPublicFromUnauthedWeb") is True,
        hides_cc_public=document.get("hidesCcPublicFromUnauthedWeb") is True,
    )


def opt_out_tags(document: dict[str, Any]) -> frozenset[str]:
    """#nobot-style opt-outs, from Hashtag tags and from the bio text (where most people write them)."""
    names = [text_of(t.get("name")) or "" for t in as_list(document.get("tag")) if isinstance(t, dict)]
    names += _HASHTAG.findall(text_of(document.get("summary")) or "")
    found = {name.lstrip("#").lower() for name in names}
    return frozenset(found & OPT_OUT_TAGS)


def _key(document: dict[str, Any], actor_id: str) -> tuple[str | None, str | None]:
    for entry in as_list(document.get("publicKey")):
        if isinstance(entry, dict) and isinstance(entry.get("publicKeyPem"), str):
            key_id = id_of(entry.get("id"))
            if key_id and same_origin(key_id, actor_id):
                return key_id, entry["publicKeyPem"]
    return None, None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None
