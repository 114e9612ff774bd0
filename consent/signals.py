"""The opt-out signals a person gives on their profile and in their addressing, kept as flags only.

They are evaluated on arrival and stored with each reply, so a later decision (show it on the city's
pages, quote it, mirror it) can show what the person had said at that time. No free text is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

OPT_OUT_TAGS = ("nobot", "nobridge", "noindex", "nosearch", "noarchive")


@dataclass(frozen=True)
class ProfileSignals:
    """What the actor document says: Mastodon's `indexable`/`discoverable` (None: not said), #nobot-style
    tags, and GoToSocial's wish that public posts stay hidden from visitors who are not signed in."""

    indexable: bool | None = None
    discoverable: bool | None = None
    opt_out_tags: tuple[str, ...] = ()
    hides_to_public: bool = False
    hides_cc_public: bool = False

    @classmethod
    def of(cls, indexable: bool | None, discoverable: bool | None, tags: Iterable[str],
           hides_to_public: bool = False, hides_cc_public: bool = False) -> "ProfileSignals":
        kept = tuple(sorted({t.lstrip("#").lower() for t in tags} & set(OPT_OUT_TAGS)))
        return cls(indexable, discoverable, kept, hides_to_public, hides_cc_public)

    @classmethod
    def from_dict(cls, data: dict | None) -> "ProfileSignals":
        data = data or {}
        return cls.of(_flag(data.get("indexable")), _flag(data.get("discoverable")), data.get("opt_out_tags") or (),
                      data.get("hides_to_public") is True, data.get("hides_cc_public") is True)

    def as_dict(self) -> dict:
        return {"indexable": self.indexable, "discoverable": self.discoverable,
                "opt_out_tags": list(self.opt_out_tags), "hides_to_public": self.hides_to_public,
                "hides_cc_public": self.hides_cc_public}

    @property
    def opted_out(self) -> bool:
        """Any signal against reuse beyond moderation: #nobot & co., `indexable: false`."""
        return bool(self.opt_out_tags) or self.indexable is False


def reply_snapshot(profile: ProfileSignals, visibility: str, *, profile_known: bool = True) -> dict:
    """The snapshot stored with a reply: profile flags plus how the reply was addressed."""
    return {**profile.as_dict(), "visibility": visibility, "public": visibility == "public",
            "profile_known": profile_known, "opted_out": profile.opted_out}


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None
