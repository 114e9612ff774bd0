"""The post a warning becomes, in German (the official text verbatim, as the BBK's terms ask), cut to fit the
account's character limit: headline, description, what to do, area, validity, sender, link, hashtags."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bridge.convert.text import count_characters

SEVERITY_WORDS = {"Minor": "Warnung", "Moderate": "Markante Warnung", "Severe": "Unwetterwarnung",
                  "Extreme": "Extreme Unwetterwarnung", "Unknown": "Warnung"}


def hashtag(event: str) -> str:
    """One hashtag per event type: "ORKANARTIGE BÖEN" → #OrkanartigeBöen, "Sturmflut" → #Sturmflut."""
    words = re.findall(r"\w+", event or "")
    tag = "".join(w[:1].upper() + w[1:].lower() if w.isupper() or w.islower() else w for w in words)
    return f"#{tag[:60]}" if tag and not tag.isdigit() else "#Warnung"


def local(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y, %H:%M Uhr") if moment is not None else ""


def validity(fields: dict, tz: ZoneInfo) -> str:
    start = _time(fields.get("onset")) or _time(fields.get("effective")) or _time(fields.get("sent"))
    until = _time(fields.get("expires"))
    text = f"Gültig ab {local(start, tz)}" if start else ""
    if until:
        text += f" bis {local(until, tz)}" if text else f"Gültig bis {local(until, tz)}"
    return text


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def warning_text(fields: dict, link: str, tz: ZoneInfo, limit: int) -> str:
    """The post of an active warning; the description, then the instruction, are cut when it is too long."""
    head = f"{SEVERITY_WORDS.get(fields.get('severity', ''), 'Warnung')}: {fields.get('headline') or fields['event']}"
    tail = [f"Gebiet: {fields['area']}" if fields.get("area") else "", validity(fields, tz),
            f"Quelle: {fields.get('senderName') or fields.get('sender')}", f"Mehr: {link}",
            f"{hashtag(fields.get('event', ''))} #Warnung"]
    body = [fields.get("description", ""),
            f"Handlungsempfehlungen: {fields['instruction']}" if fields.get("instruction") else ""]
    return _fit([head], body, [t for t in tail if t], limit)


def lifted_text(fields: dict, link: str, tz: ZoneInfo, when: datetime, limit: int) -> str:
    head = f"Entwarnung: {fields.get('headline') or fields.get('event')}"
    body = [f"Die Warnung ist seit {local(when, tz)} aufgehoben.", fields.get("liftedDescription", "")]
    tail = [f"Quelle: {fields.get('senderName') or fields.get('sender')}", f"Mehr: {link}",
            f"{hashtag(fields.get('event', ''))} #Entwarnung"]
    return _fit([head], body, tail, limit)


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
