"""A remote actor document (as parsed by the ActivityPub library) to what the consent store keeps of it."""

from __future__ import annotations

from activitypub.origins import host_of
from activitypub.profiles import ActorIn
from consent.signals import ProfileSignals
from consent.subjects import ActorFacts


def facts_of(profile: ActorIn, fallback_inbox: str | None = None) -> ActorFacts | None:
    inbox = profile.inbox or fallback_inbox
    if inbox is None:
        return None
    host = host_of(profile.id)
    handle = f"@{profile.preferred_username}@{host}" if profile.preferred_username and host else None
    return ActorFacts(uri=profile.id, inbox=inbox, shared_inbox=profile.shared_inbox, handle=handle,
                      name=profile.name, signals=signals_of(profile).as_dict())


def signals_of(profile: ActorIn) -> ProfileSignals:
    return ProfileSignals.of(profile.indexable, profile.discoverable, profile.opt_out_tags,
                             profile.hides_to_public, profile.hides_cc_public)
