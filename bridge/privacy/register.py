"""The Art. 30 register from the config: controller and DPO, built-in activities (with the configured
state-law norm and overrides), each `[[platforms]]` entry as a recipient, retention per category."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit
from typing import Any

from bridge.config.model import Config
from consent.auditlog import timestamp
from consent.register import (DEFAULT_ACTIVITIES, DEFAULT_MEASURES, STAFF, TO_FILL, Activity, Recipient, Register,
                              with_overrides)

# The application's own processing of staff data, beside the library's activities about the public.
STAFF_MAIL = Activity(
    "staff_mail", "Staff e-mail", "Telling staff by e-mail that a post awaits their approval or came back, "
    "sending the daily reply summary they asked for, links to set a forgotten password, and the welcome of a new "
    "user (user name and where to sign in)", "gdpr_6_1_e",
    data_subjects=(STAFF,), data_categories=(
        "staff e-mail address, user name, language", "password-reset links (SHA-256 of the token only)",
        "second factor: TOTP secret (encrypted), recovery codes (keyed hashes)"),
    recipients=("the authority's configured SMTP server",))


def _days(n: int) -> str:
    return f"{n} days"


def retention_rows(config: Config) -> tuple[tuple[str, str], ...]:
    r = config.retention
    return (
        ("Replies and mentions from the fediverse", _days(r.replies_days)),
        ("Comments collected from platforms", _days(r.platform_replies_days)),
        ("Dialogue desk: who handles a reply, when it was first answered", "with the reply; its times 30 days"),
        ("Followers", "while they follow; then as inactive people"),
        ("Likes and boosts", "until undone, or with the post"),
        ("Poll votes (keyed pseudonym of the voter within the poll, the answer)",
         "until the poll closes (at most 31 days); then only the counts"),
        ("Page views and feed subscribers (counters per page or feed and day, no reader data)",
         "as long as the reach report is kept; no personal data"),
        ("People with nothing left here (actor record, key)", _days(r.inactive_people_days)),
        ("Keyed hashes of processed activity ids", _days(r.inbound_dedupe_days)),
        ("Reports from other servers", _days(r.reports_days)),
        ("Sign-in log: full client addresses", f"{_days(r.security_addresses_days)}, then truncated (/20, /44)"),
        ("Sign-in log", _days(r.security_log_days)),
        ("Answered data-subject requests", _days(r.closed_requests_days)),
        ("Finished jobs of the queue", _days(r.finished_jobs_days)),
        ("Images never attached to a post, images of deleted posts", "1 day"),
        ("Uploaded video files before conversion", "until converted or refused (minutes); unused ones 1 day"),
        ("Audit log (pseudonyms, actions, outcomes)", config.register.audit_log_retention or TO_FILL),
        ("Staff e-mail addresses, second-factor secrets and recovery codes", "while the user exists"),
        ("Password-reset links", "30 minutes valid, deleted 1 day after expiry"),
        ("Queued e-mails (references only, no text or address)", _days(r.finished_jobs_days)),
    )


def _storage_processor(config: Config) -> tuple[Recipient, ...]:
    """Images (which can show people) kept in an S3 bucket: the service is a processor (Art. 28)."""
    if config.media.backend != "s3":
        return ()
    where = urlsplit(config.media.endpoint).hostname if config.media.endpoint else "Amazon S3"
    return (Recipient(f"Object storage for images ({where}, bucket {config.media.bucket})", "processor", "",
                      "data-processing agreement (Art. 28 GDPR)"),)


def build_register(config: Config, now: datetime) -> dict[str, Any]:
    reg = config.register
    law = reg.public_task_law or TO_FILL
    defaults = tuple(replace(a, law=law) if a.legal_basis == "gdpr_6_1_e" else a
                     for a in (*DEFAULT_ACTIVITIES, STAFF_MAIL))
    recipients = (Recipient("Servers of followers and repliers on the fediverse", "fediverse", "",
                            "none: the person's own server, addressed at their request"),
                  *(Recipient(p.recipient, "platform", p.country, p.transfer_mechanism, p.id)
                    for p in config.platforms),
                  *_storage_processor(config))
    register = Register(
        controller={"name": reg.controller_name or config.instance.name, "address": reg.controller_address or "",
                    "contact": reg.controller_contact or "", "representative": reg.representative or ""},
        dpo={"name": reg.dpo_name or "", "contact": reg.dpo_contact or config.privacy.dpo_contact or ""},
        activities=with_overrides(defaults, list(reg.activities)),
        recipients=recipients, retention=retention_rows(config),
        measures=(*DEFAULT_MEASURES, *reg.measures), generated_at=timestamp(now))
    return register.as_dict()
