"""Messages shown to users. Views hand English message ids to templates, which translate them with `_()`.

`N_` only marks a string for extraction into the catalogue; translation happens at render time, in the
reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def N_(message: str) -> str:
    return message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a form: the field it belongs to ("" for the whole form) and a message id."""

    field: str
    message: str
    params: dict = field(default_factory=dict)


def by_field(problems: list[Problem]) -> dict[str, list[Problem]]:
    grouped: dict[str, list[Problem]] = {}
    for p in problems:
        grouped.setdefault(p.field, []).append(p)
    return grouped
