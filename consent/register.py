"""The record of processing activities (Art. 30(1)(a)-(g) GDPR) as data, and as Markdown text.

The bridge fills a `Register` from the config (controller, DPO, platforms, retention periods); the
activities below are what this software does, with defaults for what the city must still fill in
(the state-law norm behind its public task, Art. 6(3)). HTML is rendered by the bridge's templates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FORMAT = "stadtbote-art30-register/1"
EEA = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK IS LI NO".split())
TO_FILL = "to be completed by the controller"


@dataclass(frozen=True)
class Activity:
    id: str
    name: str
    purpose: str
    legal_basis: str
    law: str = TO_FILL
    data_subjects: tuple[str, ...] = ()
    data_categories: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipient:
    name: str
    role: str  # "platform", "fediverse", "processor", ...
    country: str
    transfer_mechanism: str
    platform_id: str | None = None

    @property
    def third_country(self) -> bool:
        return bool(self.country) and self.country.upper() not in EEA


@dataclass(frozen=True)
class Register:
    controller: dict[str, str]
    dpo: dict[str, str]
    activities: tuple[Activity, ...]
    recipients: tuple[Recipient, ...]
    retention: tuple[tuple[str, str], ...]  # (data category, period in words)
    measures: tuple[str, ...]
    generated_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "generated_at": self.generated_at, "controller": self.controller,
                "dpo": self.dpo, "activities": [asdict(a) for a in self.activities],
                "recipients": [{**asdict(r), "third_country": r.third_country} for r in self.recipients],
                "transfers": [asdict(r) for r in self.recipients if r.third_country],
                "retention": [{"category": c, "period": p} for c, p in self.retention],
                "measures": list(self.measures)}


STAFF, PEOPLE = "staff of the authority (editors, administrators, DPO)", "people on the fediverse and platforms"

DEFAULT_ACTIVITIES = (
    Activity("public_relations", "Publishing", "Public relations: the authority's posts on its own instance, in "
             "feeds and mirrored to the configured platforms", "gdpr_6_1_e", data_subjects=(STAFF,),
             data_categories=("staff user id (pseudonymous in the log)", "post content written by staff"),
             recipients=("the public", "configured platforms (see recipients)")),
    Activity("federation", "Followers", "Delivering posts to followers on the fediverse and answering them",
             "gdpr_6_1_e", data_subjects=(PEOPLE,),
             data_categories=("actor URI, inbox, handle and display name (encrypted per person)",
                              "opt-out signals (flags only)"), recipients=("the follower's own server",)),
    Activity("moderation", "Replies and interactions", "Moderating and answering replies, mentions, likes, "
             "boosts, platform comments and reports", "gdpr_6_1_e", data_subjects=(PEOPLE,),
             data_categories=("reply text, URL and id (encrypted per person)", "likes and boosts (counts, undo)",
                              "opt-out signals at arrival"),
             recipients=("moderators of the authority", "the editors' Mastodon apps (replies to their account)")),
    Activity("consent", "Optional reuse with consent", "Showing or quoting a reply beyond moderation, only "
             "with the author's consent (Recital 43)", "gdpr_6_1_a", law="Art. 6(1)(a), 7 GDPR",
             data_subjects=(PEOPLE,), data_categories=("consent receipt: purpose, text version, activity id",),
             recipients=("the public (the authority's pages)",)),
    Activity("security", "Sign-in security", "Protecting the editorial interface against attacks",
             "gdpr_6_1_c", law="Art. 32 GDPR", data_subjects=(STAFF,),
             data_categories=("user id, time, outcome", "client address (full for days, then truncated)"),
             recipients=("administrators",)),
    Activity("accountability", "Audit log and data-subject rights", "Demonstrating compliance (Art. 5(2)) "
             "and answering access, erasure and objection requests (Art. 12-22)", "gdpr_6_1_c",
             law="Art. 5(2), 12-22, 30 GDPR", data_subjects=(STAFF, PEOPLE),
             data_categories=("pseudonyms (keyed hashes), actions, outcomes; never content or addresses",),
             recipients=("data-protection officer", "supervisory authority on request")),
)

DEFAULT_MEASURES = (
    "Pseudonymisation: people are named in the audit log only by HMAC-SHA-256 pseudonyms under a secret kept "
    "outside the database (Art. 32(1)(a))",
    "Encryption: each person's fields are encrypted with their own AES-256-GCM key; erasure destroys the key "
    "(crypto-shredding), so backups become unreadable",
    "Integrity: append-only audit log in the database (triggers), RFC 9162 Merkle tree, Ed25519-signed C2SP "
    "checkpoints, offline verification by the DPO",
    "Confidentiality: roles (editor, DPO read-only, admin), Argon2id passwords, sign-in throttling, CSRF "
    "protection, sessions only for staff",
    "Data minimisation: no cookies, trackers or third-party requests for readers; no reader addresses logged",
    "Storage limitation: retention per data category enforced by a daily job, each purge logged with counts",
)


def markdown(register: dict[str, Any]) -> str:
    """The register (as from `Register.as_dict`) as a Markdown document."""
    c, d = register["controller"], register["dpo"]
    out = ["# Record of processing activities (Art. 30 GDPR)", "",
           f"Generated {register['generated_at']}.", "", "## Controller (Art. 30(1)(a))", "",
           *[f"- {k.replace('_', ' ').capitalize()}: {v}" for k, v in c.items() if v], "",
           "## Data-protection officer", "", *[f"- {k.capitalize()}: {v}" for k, v in d.items() if v], "",
           "## Processing activities (Art. 30(1)(b), (c))", ""]
    for a in register["activities"]:
        out += [f"### {a['name']} (`{a['id']}`)", "", f"- Purpose: {a['purpose']}",
                f"- Legal basis: {a['legal_basis']} — {a['law']}",
                f"- Data subjects: {'; '.join(a['data_subjects'])}",
                f"- Personal data: {'; '.join(a['data_categories'])}",
                f"- Recipients: {'; '.join(a['recipients'])}", ""]
    out += ["## Recipients and third-country transfers (Art. 30(1)(d), (e))", "",
            "| Recipient | Role | Country | Third country | Transfer mechanism |", "|---|---|---|---|---|"]
    out += [f"| {r['name']} | {r['role']} | {r['country']} | {'yes' if r['third_country'] else 'no'} | "
            f"{r['transfer_mechanism']} |" for r in register["recipients"]]
    out += ["", "## Erasure time limits (Art. 30(1)(f))", "", "| Data category | Kept |", "|---|---|"]
    out += [f"| {r['category']} | {r['period']} |" for r in register["retention"]]
    out += ["", "## Technical and organisational measures (Art. 30(1)(g), 32(1))", ""]
    out += [f"- {m}" for m in register["measures"]]
    return "\n".join(out) + "\n"


def with_overrides(defaults: tuple[Activity, ...], overrides: list[dict[str, Any]]) -> tuple[Activity, ...]:
    """Config entries replace the fields they name in the default with the same id, or add an activity."""
    by_id = {a.id: asdict(a) for a in defaults}
    for item in overrides:
        merged = {**by_id.get(item["id"], {"name": item["id"], "purpose": TO_FILL, "legal_basis": TO_FILL}),
                  **{k: (tuple(v) if isinstance(v, list) else v) for k, v in item.items()}}
        by_id[item["id"]] = merged
    return tuple(Activity(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in a.items()})
                 for a in by_id.values())

