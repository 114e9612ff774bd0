"""Reading each kind of source into CAP messages: the BBK warning API ("NINA"), the DWD's CAP files, any CAP 1.2
document or Atom/RSS index of them, and PEGELONLINE gauges (their readings, which `levels` turns into messages).

Every request goes through the guarded client (private addresses refused unless configured); every failure is a
`WarningReason`. Nothing here writes to the database."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Awaitable, Callable
from urllib.parse import quote, urljoin

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from xml.etree import ElementTree

from activitypub.guard import RequestFailed, RequestReason, Response
from bridge.config.model import WarningSourceConfig
from bridge.publishing.hubping import HttpClient
from bridge.warnings.cap import Message, message_from_element, message_from_json, parse_time, parse_xml
from bridge.warnings.reasons import WarningReason

MAX_BODY = 5 * 1024 * 1024  # a DWD snapshot ZIP of a stormy day is a few MB
MAX_DOCUMENTS = 100  # detail documents fetched per poll: more would be a feed gone wrong
MAX_ZIP_ENTRY = 1024 * 1024  # one CAP file; a larger one is a ZIP bomb, not a warning
DWD_LATEST = "COMMUNEUNION_DWD_STAT/Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_MUL.zip"
CAP_TYPES = ("application/cap+xml", "application/xml", "text/xml")


@dataclass(frozen=True)
class Reading:
    """One gauge's current water level (PEGELONLINE), in cm above gauge zero."""

    station: str  # uuid
    name: str
    water: str
    value: float
    timestamp: datetime
    severity: str | None  # the highest level crossed, or None below all


@dataclass
class Fetched:
    reason: WarningReason = WarningReason.POLLED
    detail: str = ""
    messages: list[Message] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # messages left out, with their reasons
    readings: list[Reading] = field(default_factory=list)
    snapshot: bool = False  # the answer lists every current warning: one missing from it has ended
    etag: str | None = None
    last_modified: str | None = None

    @property
    def broken(self) -> bool:
        return self.reason.broken


async def fetch(source: WarningSourceConfig, http: HttpClient, etag: str | None = None,
                last_modified: str | None = None) -> Fetched:
    return await READERS[source.kind](source, http, etag, last_modified)


async def _get(http: HttpClient, url: str, accept: str, etag: str | None = None,
               last_modified: str | None = None) -> Response | Fetched:
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    answer = await http.request("GET", url, headers=headers, max_body=MAX_BODY)
    if isinstance(answer, RequestFailed):
        return Fetched(FAILURES.get(answer.reason, WarningReason.FETCH_FAILED), str(answer.reason))
    if answer.status == 304:
        return Fetched(WarningReason.NOT_MODIFIED)
    if not 200 <= answer.status < 300:
        return Fetched(WarningReason.HTTP_ERROR, f"HTTP {answer.status}")
    return answer


FAILURES = {RequestReason.TIMEOUT: WarningReason.TIMEOUT,
            RequestReason.TOO_MANY_REDIRECTS: WarningReason.TOO_MANY_REDIRECTS,
            RequestReason.REFUSED_ADDRESS: WarningReason.REFUSED_ADDRESS,
            RequestReason.REFUSED_SCHEME: WarningReason.REFUSED_ADDRESS}


def _json(answer: Response) -> object | Fetched:
    try:
        return json.loads(answer.body)
    except (ValueError, RecursionError):
        return Fetched(WarningReason.INVALID_JSON)


def _validators(fetched: Fetched, answer: Response) -> Fetched:
    # Kept only for an answer that was read, so a broken one is fetched in full next time.
    etag, modified = answer.headers.get("ETag"), answer.headers.get("Last-Modified")
    fetched.etag = etag if etag and len(etag) <= 200 else None
    fetched.last_modified = modified if modified and len(modified) <= 64 else None
    return fetched


# -------------------------------------------------------------------------------------------------- NINA


def district(ars: str) -> str:
    """The dashboard answers on district level only: the last seven digits of the ARS become zeros."""
    return ars[:5] + "0000000"


async def read_nina(source: WarningSourceConfig, http: HttpClient, etag: str | None,
                    last_modified: str | None) -> Fetched:
    """Dashboard of the district, then the detail of each warning listed (a CAP message as JSON)."""
    answer = await _get(http, f"{source.api_base}/dashboard/{district(source.ars or '')}.json", "application/json",
                        etag, last_modified)
    if isinstance(answer, Fetched):
        return answer
    items = _json(answer)
    if isinstance(items, Fetched):
        return items
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        return Fetched(WarningReason.UNEXPECTED_SHAPE)
    fetched = Fetched(snapshot=True)
    for item in items[:MAX_DOCUMENTS]:
        detail = await _get(http, f"{source.api_base}/warnings/{quote(item['id'], safe='')}.json", "application/json")
        document = detail if isinstance(detail, Fetched) else _json(detail)
        message = message_from_json(document) if not isinstance(document, Fetched) else document.reason
        if isinstance(message, Message):
            fetched.messages.append(message)
        else:  # some details answer 404 for a while: left out now, read at a later poll (never half a post)
            fetched.problems.append(f"{item['id']}: {message}")
            fetched.snapshot = False  # not a full picture: nothing is lifted for missing from it
    return _validators(fetched, answer) if not fetched.problems else fetched


# --------------------------------------------------------------------------------------------------- DWD


async def read_dwd(source: WarningSourceConfig, http: HttpClient, etag: str | None,
                   last_modified: str | None) -> Fetched:
    """The DWD's snapshot ZIP of all current warnings (one CAP file per warning), kept to the warn cells."""
    answer = await _get(http, f"{source.api_base}/{DWD_LATEST}", "application/zip", etag, last_modified)
    if isinstance(answer, Fetched):
        return answer
    try:
        archive = zipfile.ZipFile(io.BytesIO(answer.body))
        names = [i for i in archive.infolist() if i.filename.endswith(".xml")][:500]
        if any(i.file_size > MAX_ZIP_ENTRY for i in names):
            return Fetched(WarningReason.UNEXPECTED_SHAPE, "oversized file in the archive")
        bodies = [archive.read(i) for i in names]
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        return Fetched(WarningReason.UNEXPECTED_SHAPE, "not a ZIP archive")
    fetched = Fetched(snapshot=True)
    cells = set(source.warncells)
    for body in bodies:
        message = parse_xml(body)
        if not isinstance(message, Message):
            fetched.problems.append(str(message))
            continue
        found = {value for info in message.infos for name, value in info.geocodes if name == "WARNCELLID"}
        if found & cells:
            fetched.messages.append(message)
    return _validators(fetched, answer)


# ----------------------------------------------------------------------------------------------- CAP feed


async def read_cap(source: WarningSourceConfig, http: HttpClient, etag: str | None,
                   last_modified: str | None) -> Fetched:
    """One CAP document, or an Atom or RSS index whose entries embed or link CAP documents."""
    accept = "application/cap+xml, application/atom+xml, application/rss+xml, application/xml;q=0.9"
    answer = await _get(http, source.url or "", accept, etag, last_modified)
    if isinstance(answer, Fetched):
        return answer
    root = _xml(answer.body)
    if root is None:
        return Fetched(WarningReason.INVALID_XML)
    kind = root.tag.rsplit("}", 1)[-1]
    if kind == "alert":
        message = message_from_element(root)
        if not isinstance(message, Message):
            return Fetched(message)
        return _validators(Fetched(messages=[message], snapshot=True), answer)
    if kind not in ("feed", "rss"):
        return Fetched(WarningReason.UNEXPECTED_SHAPE)
    fetched = Fetched(snapshot=True)
    for embedded, link in _index_entries(root)[:MAX_DOCUMENTS]:
        if embedded is not None:
            message = message_from_element(embedded)
        else:
            document = await _get(http, urljoin(answer.url, link), accept)
            parsed = _xml(document.body) if isinstance(document, Response) else None
            message = message_from_element(parsed) if parsed is not None else (
                document.reason if isinstance(document, Fetched) else WarningReason.INVALID_XML)
        if isinstance(message, Message):
            fetched.messages.append(message)
        else:
            fetched.problems.append(f"{link or 'embedded'}: {message}")
            fetched.snapshot = False
    return _validators(fetched, answer) if not fetched.problems else fetched


def _xml(body: bytes) -> ElementTree.Element | None:
    try:
        return fromstring(body, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return None


def _index_entries(root: ElementTree.Element) -> list[tuple[ElementTree.Element | None, str]]:
    """(embedded alert, link) per Atom entry or RSS item; the link to a CAP document is preferred."""
    found = []
    for entry in root.iter():
        if entry.tag.rsplit("}", 1)[-1] not in ("entry", "item"):
            continue
        embedded = next((e for e in entry.iter() if e.tag.rsplit("}", 1)[-1] == "alert"), None)
        links = []
        for child in entry:
            name = child.tag.rsplit("}", 1)[-1]
            if name in ("link", "enclosure"):
                href = child.get("href") or child.get("url") or (child.text or "").strip()
                if href:
                    links.append((child.get("type") in CAP_TYPES, href))
        links.sort(key=lambda pair: not pair[0])
        if embedded is not None or links:
            found.append((embedded, links[0][1] if links else ""))
    return found


# ------------------------------------------------------------------------------------------- PEGELONLINE


async def read_pegelonline(source: WarningSourceConfig, http: HttpClient, etag: str | None,
                           last_modified: str | None) -> Fetched:
    """Each station's current water level (time series W) with its characteristic values."""
    fetched = Fetched()
    for station in source.stations:
        url = (f"{source.api_base}/stations/{quote(station, safe='')}.json?includeTimeseries=true"
               "&includeCurrentMeasurement=true&includeCharacteristicValues=true&prettyprint=false")
        answer = await _get(http, url, "application/json")
        if isinstance(answer, Fetched):
            return answer
        document = _json(answer)
        if isinstance(document, Fetched):
            return document
        reading = _reading(source, document)
        if reading is None:
            return Fetched(WarningReason.UNEXPECTED_SHAPE, station)
        fetched.readings.append(reading)
    return fetched


def _reading(source: WarningSourceConfig, station: object) -> Reading | None:
    if not isinstance(station, dict) or not isinstance(station.get("uuid"), str):
        return None
    series = next((t for t in station.get("timeseries") or [] if isinstance(t, dict) and t.get("shortname") == "W"),
                  None)
    current = series.get("currentMeasurement") if isinstance(series, dict) else None
    if not isinstance(current, dict) or isinstance(current.get("value"), bool):
        return None
    value, timestamp = current.get("value"), parse_time(current.get("timestamp"))
    if not isinstance(value, (int, float)) or timestamp is None:
        return None
    water = station.get("water") if isinstance(station.get("water"), dict) else {}
    return Reading(station["uuid"][:100], str(station.get("longname") or station.get("shortname") or "")[:200],
                   str(water.get("longname") or "")[:200], float(value), timestamp,
                   level_severity(source, series, float(value), current))


def level_severity(source: WarningSourceConfig, series: dict, value: float, current: dict) -> str | None:
    """The highest configured level the value reaches; without `levels`, the station's own state: above mean
    high water (MHW) is Minor, above the highest navigable level (HSW) Moderate."""
    if source.levels:
        reached = [severity for severity, cm in source.levels if value >= cm]
        return reached[-1] if reached else None
    if current.get("stateNswHsw") == "high":
        return "Moderate"
    if current.get("stateMnwMhw") == "high":
        return "Minor"
    return None


READERS: dict[str, Callable[..., Awaitable[Fetched]]] = {
    "nina": read_nina, "dwd": read_dwd, "cap": read_cap, "pegelonline": read_pegelonline}
