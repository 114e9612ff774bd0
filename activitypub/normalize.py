"""Normalising real-world ActivityStreams shapes: any property may be a string, an object, a list or null."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .uris import PUBLIC

PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public"})
ACTOR_TYPES = frozenset({"Person", "Organization", "Service", "Application", "Group"})
WEB_SCHEMES = frozenset({"http", "https"})  # the only schemes a remote address may have where it becomes a link


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def id_of(value: Any) -> str | None:
    """The id of a reference: a string, an object with `id` (or a Link's `href`), or the first of a list."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        for key in ("id", "href"):
            if isinstance(value.get(key), str) and value[key]:
                return value[key]
        return None
    if isinstance(value, list):
        for item in value:
            found = id_of(item)
            if found:
                return found
    return None


def ids_of(value: Any) -> list[str]:
    return [found for item in as_list(value) if (found := id_of(item))]


def author_of(value: Any) -> str | None:
    """The first actor-typed `attributedTo` (Lemmy lists the community too), else the first id."""
    for item in as_list(value):
        if isinstance(item, dict) and item.get("type") in ACTOR_TYPES and id_of(item):
            return id_of(item)
    return id_of(value)


def type_of(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str)), None)
    return kind if isinstance(kind, str) else None


def audience(document: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(to, cc) as id lists with every spelling of Public turned into the full IRI."""
    return _addresses(document.get("to")), _addresses(document.get("cc"))


def _addresses(value: Any) -> list[str]:
    return [PUBLIC if a in PUBLIC_FORMS else a for a in ids_of(value)]


def text_of(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def first_map_value(value: Any) -> tuple[str | None, str | None]:
    """(language, text) of the first entry of a `contentMap`."""
    if isinstance(value, dict):
        for language, text in value.items():
            if isinstance(text, str):
                return str(language), text
    return None, None


def language_of(note: dict[str, Any], context: Any = None) -> str | None:
    """contentMap key, else Lemmy's `language.identifier`, else `@language` in the context."""
    language, _ = first_map_value(note.get("contentMap"))
    if language:
        return language
    lemmy = note.get("language")
    if isinstance(lemmy, dict) and isinstance(lemmy.get("identifier"), str):
        return lemmy["identifier"]
    for item in as_list(context if context is not None else note.get("@context")):
        if isinstance(item, dict) and isinstance(item.get("@language"), str) and item["@language"] != "und":
            return item["@language"]
    return None


def url_of(value: Any) -> str | None:
    """`url` as a string, a Link, or a list of Links (prefer text/html): the first that is a `web_url`."""
    items = as_list(value)
    pages = [item["href"] for item in items
             if isinstance(item, dict) and item.get("mediaType") == "text/html" and isinstance(item.get("href"), str)]
    return next((url for url in (*pages, *(id_of(item) for item in items)) if web_url(url)), None)


def web_url(value: Any) -> str | None:
    """`value` when it is an absolute http(s) address, else None: the one rule for every remote address
    that may become a link (javascript:, data:, relative and spaced-out forms never do)."""
    if not isinstance(value, str) or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme.lower() in WEB_SCHEMES and parts.netloc else None


def bool_of(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")
