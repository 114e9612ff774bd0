"""Our warnings as other systems read them: each as a CAP 1.2 document, all of them as an Atom index whose
entries link (and embed) those documents — the shape CAP aggregators consume (Google Public Alerts, MeteoAlarm).

Built from the CAP fields stored with each warning (`bridge.warnings.lane.stored_fields`)."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_TYPE = "application/cap+xml"
ALERT_FIELDS = ("identifier", "sender", "sent", "status", "msgType", "scope", "references")
INFO_FIELDS = ("language", "category", "event", "responseType", "urgency", "severity", "certainty", "effective",
               "onset", "expires", "senderName", "headline", "description", "instruction", "web")


def cap_element(fields: dict) -> ElementTree.Element:
    alert = ElementTree.Element(f"{{{CAP_NS}}}alert")
    for name in ALERT_FIELDS:
        if fields.get(name):
            ElementTree.SubElement(alert, f"{{{CAP_NS}}}{name}").text = str(fields[name])
    for info in fields.get("infos", []):
        element = ElementTree.SubElement(alert, f"{{{CAP_NS}}}info")
        for name in INFO_FIELDS:
            if info.get(name):
                ElementTree.SubElement(element, f"{{{CAP_NS}}}{name}").text = str(info[name])
        if info.get("area"):
            area = ElementTree.SubElement(element, f"{{{CAP_NS}}}area")
            ElementTree.SubElement(area, f"{{{CAP_NS}}}areaDesc").text = str(info["area"])
    return alert


def cap_document(fields: dict) -> bytes:
    return ElementTree.tostring(cap_element(fields), encoding="utf-8", xml_declaration=True,
                                default_namespace=CAP_NS)


def atom_index(feed_url: str, title: str, author: str, updated: datetime,
               entries: list[tuple[str, str, str, datetime, dict]]) -> bytes:
    """`entries`: (page URL, CAP document URL, title, updated, CAP fields), newest first."""
    # Prefixed names (attributes have none, so there is no default namespace): valid Atom for any XML reader.
    ElementTree.register_namespace("atom", ATOM_NS)
    ElementTree.register_namespace("cap", CAP_NS)
    feed = ElementTree.Element(f"{{{ATOM_NS}}}feed")
    _text(feed, "id", feed_url)
    _text(feed, "title", title)
    _text(feed, "updated", updated.isoformat())
    _text(ElementTree.SubElement(feed, f"{{{ATOM_NS}}}author"), "name", author)
    ElementTree.SubElement(feed, f"{{{ATOM_NS}}}link", rel="self", type="application/atom+xml", href=feed_url)
    for page, cap_url, entry_title, entry_updated, fields in entries:
        entry = ElementTree.SubElement(feed, f"{{{ATOM_NS}}}entry")
        _text(entry, "id", page)
        _text(entry, "title", entry_title)
        _text(entry, "updated", entry_updated.isoformat())
        ElementTree.SubElement(entry, f"{{{ATOM_NS}}}link", rel="alternate", type="text/html", href=page)
        ElementTree.SubElement(entry, f"{{{ATOM_NS}}}link", rel="related", type=CAP_TYPE, href=cap_url)
        for name in ("identifier", "msgType", "severity", "expires"):
            if fields.get(name):
                ElementTree.SubElement(entry, f"{{{CAP_NS}}}{name}").text = str(fields[name])
        if fields.get("description"):
            _text(entry, "summary", str(fields["description"])[:500])
        content = ElementTree.SubElement(entry, f"{{{ATOM_NS}}}content", type=CAP_TYPE)
        content.append(cap_element(fields))
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)


def _text(parent: ElementTree.Element, name: str, value: str) -> None:
    ElementTree.SubElement(parent, f"{{{ATOM_NS}}}{name}").text = value
