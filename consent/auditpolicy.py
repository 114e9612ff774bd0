"""Purpose, legal basis and retention class of an audit entry, by the family of its action.

The ~35 callers of `record()` name what happened; why it was processed follows from the kind of event,
so it is decided here once instead of at every call. An Event may still name its own.
The purpose ids are those of the Art. 30 register (`consent.register`).
"""

from __future__ import annotations

import enum


class Basis(enum.StrEnum):
    CONSENT = "gdpr_6_1_a"
    LEGAL_OBLIGATION = "gdpr_6_1_c"  # e.g. Art. 32 security, Art. 5(2) accountability, Art. 12-22 rights
    PUBLIC_TASK = "gdpr_6_1_e"  # with a basis in state law (Art. 6(3)), named in the register


class RetentionClass(enum.StrEnum):
    AUDIT = "audit"  # the audit log's own period (register)
    SECURITY = "security"  # sign-ins, users, tokens, keys


# (purpose, basis, retention class) per action family: the text before the first dot.
_FAMILIES: dict[str, tuple[str, Basis, RetentionClass]] = {
    **{f: ("security", Basis.LEGAL_OBLIGATION, RetentionClass.SECURITY)
       for f in ("signin", "signout", "password", "user", "token", "csrf", "key", "second_factor")},
    "mail": ("staff_mail", Basis.PUBLIC_TASK, RetentionClass.SECURITY),
    **{f: ("public_relations", Basis.PUBLIC_TASK, RetentionClass.AUDIT)
       for f in ("actor", "post", "delivery", "platform", "warning")},
    **{f: ("federation", Basis.PUBLIC_TASK, RetentionClass.AUDIT) for f in ("follower", "inbound", "quote")},
    **{f: ("moderation", Basis.PUBLIC_TASK, RetentionClass.AUDIT) for f in ("reply", "interaction", "report")},
    **{f: ("accountability", Basis.LEGAL_OBLIGATION, RetentionClass.AUDIT)
       for f in ("subject", "audit", "retention", "request")},
    "consent": ("consent", Basis.CONSENT, RetentionClass.AUDIT),
}
_FALLBACK = ("accountability", Basis.LEGAL_OBLIGATION, RetentionClass.AUDIT)


def defaults_for(action: str) -> tuple[str, str, str]:
    """(purpose, legal basis, retention class) for an action such as "reply.stored"."""
    purpose, basis, retention = _FAMILIES.get(action.split(".", 1)[0], _FALLBACK)
    return purpose, str(basis), str(retention)
