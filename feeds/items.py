"""An imported feed item as the importer hands it on; its own module so that the text and selection
rules can name it without importing the importer."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class GuidSource(enum.StrEnum):
    """Where an item's GUID came from; a hashed GUID changes if the publisher edits the title."""

    GUID = "guid"
    LINK = "link"
    HASH = "hash"


@dataclass(frozen=True, slots=True)
class ImportedEnclosure:
    url: str
    mime_type: str | None
    length: int | None


@dataclass(frozen=True, slots=True)
class ImportedItem:
    guid: str
    guid_source: GuidSource
    title: str | None
    link: str | None
    published: datetime | None
    updated: datetime | None
    summary_html: str | None
    content_html: str | None
    enclosures: tuple[ImportedEnclosure, ...] = ()
