"""The inbox's inputs and answers: what the route hands to the pipeline and what it sends back."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.config.model import Config
from bridge.runtime.federation import Federation
from bridge.inbound.turns import ActorTurns


class Refusal(enum.StrEnum):
    """Refusals of the pipeline itself; signature refusals are `activitypub.signatures.RejectReason`s."""

    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_LOCAL_ACTOR = "unknown_local_actor"
    INTERNAL_ERROR = "internal_error"
    CONFLICT = "conflict"  # a concurrent request wrote the same row: 503, the sender retries
    DOMAIN_BLOCKED = "domain_blocked"  # the sending server is blocked by the moderators: 403


class Acceptance(enum.StrEnum):
    DUPLICATE = "duplicate"  # applied before; answered 202 again with no second effect
    UNKNOWN_ACTOR_DELETED = "unknown_actor_deleted"  # Delete of an account we never knew: dropped


@dataclass(frozen=True)
class Parts:
    """The process-wide pieces the pipeline needs, taken from the application once per request."""

    config: Config
    federation: Federation
    sessions: async_sessionmaker[AsyncSession]
    turns: ActorTurns = field(default_factory=ActorTurns)  # the application's, so that it is shared


@dataclass(frozen=True)
class InboundRequest:
    method: str
    target: str  # path with query, as sent (signatures cover it)
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str

    def body(self) -> dict[str, str]:
        return {"error": self.reason} if self.status >= 400 else {"status": self.reason}
