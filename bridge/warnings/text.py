"""The post a warning becomes — in German, and in English where the source has it (`contentMap`) — with the
official text verbatim (as the BBK's terms ask), cut to fit the account's character limit: headline,
description, what to do, area, validity in local time, sender, link, hashtags."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bridge.convert.text import count_characters

WORDS = {
    "de": {"Minor": "Warnung", "Moderate": "Markante Warnung", "Severe": "Unwetterwarnung",
           "Extreme": "Extreme Unwetterwarnung", "Unknown": "Warnung", "instruction": "Handlungsempfehlungen",
           "area": "Gebiet", "from": "Gültig ab", "until": "bis", "only_until": "Gültig bis", "source": "Quelle",
           "more": "Mehr", "lifted": "Entwarnung", "lifted_at": "Die Warnung ist seit {when} aufgehoben.",
           "time": "%d.%m.%Y, %H:%M Uhr", "tag": "#Warnung", "lifted_tag": "#Entwarnung"},
    "en": {"Minor": "Warning", "Moderate": "Warning", "Severe": "Severe warning", "Extreme": "Extreme warning",
           "Unknown": "Warning", "instruction": "What to do", "area": "Area", "from": "Valid from",
           "until": "until", "only_until": "Valid until", "source": "Source", "more": "More",
           "lifted": "All clear", "lifted_at": "The warning was lifted at {when}.", "time": "%d %b %Y, %H:%M",
           "tag": "#Warnung", "lifted_tag": "#Entwarnung"},
}


def hashtag(event: str) -> str:
    """One hashtag per event type: "ORKANARTIGE BÖEN" → #OrkanartigeBöen, "Sturmflut" → #Sturmflut."""
    words = re.findall(r"\w+", event or "")
    tag = "".join(w[:1].upper() + w[1:].lower() if w.isupper() or w.islower() else w for w in words)
    return f"#{tag[:60]}" if tag and not tag.isdigit() else "#Warnung"


def local(moment: datetime | None, tz: ZoneInfo, language: str = "de") -> str:
    return moment.astimezone(tz).strftime(WORDS[language]["time"]) if moment is not None else ""


def validity(fields: dict, tz: ZoneInfo, language: str = "de") -> str:
    words = WORDS[language]
    start = _time(fields.get("onset")) or _time(fields.get("effective")) or _time(fields.get("sent"))
    until = _time(fields.get("expires"))
    text = f"{words['from']} {local(start, tz, language)}" if start else ""
    if until:
        end = local(until, tz, language)
        text += f" {words['until']} {end}" if text else f"{words['only_until']} {end}"
    return text


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def in_language(fields: dict, language: str) -> dict | None:
    """The fields with the texts of the message's info in `language` (None when the source has none)."""
    info = next((i for i in fields.get("infos", []) if i.get("language", "").lower().split("-")[0] == language),
                None)
    if info is None:
        return None
    texts = ("headline", "description", "instruction", "area", "senderName")
    return {**fields, **{name: info[name] for name in texts if info.get(name)}}


def warning_text(fields: dict, link: str, tz: ZoneInfo, limit: int, language: str = "de") -> str:
    """The post of an active warning; the description, then the instruction, are cut when it is too long."""
    words = WORDS[language]
    head = f"{words.get(fields.get('severity', ''), words['Unknown'])}: {fields.get('headline') or fields['event']}"
    tail = [f"{words['area']}: {fields['area']}" if fields.get("area") else "", validity(fields, tz, language),
            _source(fields, words), f"{words['more']}: {link}",
            f"{hashtag(fields.get('event', ''))} {words['tag']}"]
    body = [fields.get("description", ""),
            f"{words['instruction']}: {fields['instruction']}" if fields.get("instruction") else ""]
    return _fit([head], body, [t for t in tail if t], limit)


def lifted_text(fields: dict, link: str, tz: ZoneInfo, when: datetime, limit: int, language: str = "de") -> str:
    words = WORDS[language]
    head = f"{words['lifted']}: {fields.get('headline') or fields.get('event')}"
    body = [words["lifted_at"].format(when=local(when, tz, language)), fields.get("liftedDescription", "")]
    tail = [_source(fields, words), f"{words['more']}: {link}",
            f"{hashtag(fields.get('event', ''))} {words['lifted_tag']}"]
    return _fit([head], body, tail, limit)


def _source(fields: dict, words: dict) -> str:
    """The sender, and the official source's own page where the message names one."""
    web = f" – {fields['web']}" if fields.get("web") else ""
    return f"{words['source']}: {fields.get('senderName') or fields.get('sender')}{web}"


def _fit(head: list[str], body: list[str], tail: list[str], limit: int) -> str:
    def join(parts: list[str]) -> str:
        return "\n\n".join(p for p in head + parts + tail if p)

    parts = [p for p in body if p]
    while parts and count_characters(join(parts)) > limit:
        last = parts[-1]
        room = len(last) - (count_characters(join(parts)) - limit) - 1
        parts[-1:] = [last[:room].rstrip() + "…"] if room > 40 else []
    text = join(parts)
    return text if count_characters(text) <= limit else text[:max(limit - 1, 0)] + "…"
