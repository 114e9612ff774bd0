"""CAP 1.2 messages: read from XML (through defusedxml: no DTDs, no entities, no network) or from the CAP-shaped
JSON of the BBK warning API (written back as XML by `bridge.convert.warnings`).

A message that cannot be read comes back as a `WarningReason`, never as an exception."""

from __future__ import annotations

import html
import importlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bridge.warnings.reasons import WarningReason

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SEVERITIES = ("Minor", "Moderate", "Severe", "Extreme")  # rising; CAP's "Unknown" counts as Minor
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
MAX_TEXT = 4000  # per field: descriptions are a few paragraphs, anything longer is cut


@dataclass(frozen=True)
class Info:
    language: str
    event: str
    severity: str
    urgency: str = "Unknown"
    certainty: str = "Unknown"
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str = ""
    web: str = ""
    area: str = ""
    category: str = ""
    response_type: str = ""
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    geocodes: tuple[tuple[str, str], ...] = ()

    @property
    def rank(self) -> int:
        return severity_rank(self.severity)


@dataclass(frozen=True)
class Message:
    sender: str
    identifier: str
    sent: datetime
    msg_type: str
    status: str = "Actual"
    scope: str = "Public"
    references: tuple[tuple[str, str], ...] = ()  # (sender, identifier) of earlier messages
    infos: tuple[Info, ...] = field(default=())

    def info(self, languages: tuple[str, ...] = ("de",)) -> Info | None:
        """The info in the first wanted language; German first, else the first one there is."""
        for wanted in languages:
            for info in self.infos:
                if info.language.lower().split("-")[0] == wanted.lower():
                    return info
        return self.infos[0] if self.infos else None

    @property
    def all_clear(self) -> bool:
        """A Cancel, or an update telling people the danger is over (CAP responseType AllClear)."""
        return self.msg_type == "Cancel" or any(i.response_type == "AllClear" for i in self.infos)


def severity_rank(severity: str) -> int:
    """0–3 for CAP's four severities (Unknown ranks as Minor), -1 for a word CAP does not define."""
    if severity == "Unknown":
        return 0
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def parse_references(value: str) -> tuple[tuple[str, str], ...]:
    """CAP `references`: space-separated `sender,identifier,sent` triples."""
    found = []
    for triple in (value or "").split():
        parts = triple.split(",")
        if len(parts) >= 2 and parts[0] and parts[1]:
            found.append((parts[0], parts[1]))
    return tuple(found)


def parse_time(value: object) -> datetime | None:
    """CAP times carry their offset; one without (or garbage) is no time at all."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def plain(value: object) -> str:
    """CAP texts as plain text: the BBK's `<br/>` become line breaks, any other markup is dropped."""
    if not isinstance(value, str):
        return ""
    text = re.sub(r"(?i)<br\s*/?>", "\n", value)
    bleach = importlib.import_module("bleach")  # at the first warning, not at start: the web process need not carry it
    text = html.unescape(bleach.clean(text, tags=[], strip=True))  # plain text: escaped again where shown
    return "\n".join(line.strip() for line in text.strip().splitlines())[:MAX_TEXT]


# ------------------------------------------------------------------------------------------------ XML in


def parse_xml(body: bytes) -> Message | WarningReason:
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return WarningReason.INVALID_XML
    return message_from_element(root)


def message_from_element(root: ElementTree.Element) -> Message | WarningReason:
    if _local(root.tag) != "alert":
        return WarningReason.UNEXPECTED_SHAPE

    def text(parent: ElementTree.Element, name: str) -> str:
        child = _child(parent, name)
        return (child.text or "").strip() if child is not None else ""

    infos = []
    for element in _children(root, "info"):
        areas = [text(a, "areaDesc") for a in _children(element, "area")]
        geocodes = tuple((text(g, "valueName"), text(g, "value"))
                         for a in _children(element, "area") for g in _children(a, "geocode"))
        infos.append(_info({
            "language": text(element, "language") or "en-US", "event": text(element, "event"),
            "severity": text(element, "severity"), "urgency": text(element, "urgency"),
            "certainty": text(element, "certainty"), "headline": text(element, "headline"),
            "description": text(element, "description"), "instruction": text(element, "instruction"),
            "senderName": text(element, "senderName"), "web": text(element, "web"),
            "category": text(element, "category"), "responseType": text(element, "responseType"),
            "effective": text(element, "effective"), "onset": text(element, "onset"),
            "expires": text(element, "expires")}, ", ".join(a for a in areas if a), geocodes))
    return _message({"sender": text(root, "sender"), "identifier": text(root, "identifier"),
                     "sent": text(root, "sent"), "msgType": text(root, "msgType"), "status": text(root, "status"),
                     "scope": text(root, "scope"), "references": text(root, "references")}, infos)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(parent: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [c for c in parent if _local(c.tag) == name]


def _child(parent: ElementTree.Element, name: str) -> ElementTree.Element | None:
    found = _children(parent, name)
    return found[0] if found else None


# ----------------------------------------------------------------------------------------------- JSON in


def message_from_json(document: object) -> Message | WarningReason:
    """The BBK warning API's detail document (`/warnings/{id}.json`): CAP 1.2 written as JSON."""
    if not isinstance(document, dict):
        return WarningReason.UNEXPECTED_SHAPE
    infos = []
    for item in document.get("info") or []:
        if not isinstance(item, dict):
            return WarningReason.UNEXPECTED_SHAPE
        areas = [a for a in item.get("area") or [] if isinstance(a, dict)]
        geocodes = tuple((str(g.get("valueName", "")), str(g.get("value", "")))
                         for a in areas for g in a.get("geocode") or [] if isinstance(g, dict))
        category = item.get("category")
        fields = {**item, "category": ", ".join(category) if isinstance(category, list) else category}
        infos.append(_info(fields, ", ".join(str(a.get("areaDesc", "")) for a in areas if a.get("areaDesc")),
                           geocodes))
    return _message(document, infos)


# -------------------------------------------------------------------------------------------- both shapes


def _info(fields: dict, area: str, geocodes: tuple[tuple[str, str], ...]) -> Info:
    def word(name: str, default: str = "") -> str:
        value = fields.get(name)
        return value.strip()[:200] if isinstance(value, str) and value.strip() else default

    return Info(language=word("language", "en-US"), event=word("event"), severity=word("severity", "Unknown"),
                urgency=word("urgency", "Unknown"), certainty=word("certainty", "Unknown"),
                headline=plain(fields.get("headline"))[:500], description=plain(fields.get("description")),
                instruction=plain(fields.get("instruction")), sender_name=word("senderName"),
                web=_web(fields.get("web")), area=plain(area)[:1000], category=word("category"),
                response_type=word("responseType"), effective=parse_time(fields.get("effective")),
                onset=parse_time(fields.get("onset")), expires=parse_time(fields.get("expires")),
                geocodes=geocodes)


def _web(value: object) -> str:
    # Only a web address is linked; anything else (a `javascript:` or a phone number) is not.
    return value.strip()[:500] if isinstance(value, str) and re.match(r"https?://", value.strip()) else ""


def _message(fields: dict, infos: list[Info]) -> Message | WarningReason:
    sender, identifier = fields.get("sender"), fields.get("identifier")
    sent, msg_type = parse_time(fields.get("sent")), fields.get("msgType")
    if not (isinstance(sender, str) and sender and isinstance(identifier, str) and identifier):
        return WarningReason.INVALID_MESSAGE
    if sent is None or msg_type not in MSG_TYPES or len(sender) > 200 or len(identifier) > 300:
        return WarningReason.INVALID_MESSAGE
    references = fields.get("references")
    return Message(sender=sender, identifier=identifier, sent=sent, msg_type=msg_type,
                   status=str(fields.get("status") or "Actual"), scope=str(fields.get("scope") or "Public"),
                   references=parse_references(references if isinstance(references, str) else ""),
                   infos=tuple(infos))
