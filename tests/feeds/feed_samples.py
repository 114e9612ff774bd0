"""Sample feed metadata and entries shared by the feed tests (a plain module, not a conftest, so the
feed tests also run with --noconftest while the application is being built)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from feeds.model import FeedAuthor, FeedEntry, FeedKind, FeedLink, FeedMedia, FeedMeta

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
BASE = "https://stadt.example"
CET = timezone(timedelta(hours=1))

SELF_URLS = {
    FeedKind.RSS: f"{BASE}/@stadt.rss",
    FeedKind.ATOM: f"{BASE}/@stadt.atom",
    FeedKind.JSON: f"{BASE}/@stadt.json",
}


def meta(kind: FeedKind = FeedKind.ATOM, *, hub: bool = True) -> FeedMeta:
    return FeedMeta(
        self_url=SELF_URLS[kind],
        title="Stadt Müllheim – Aktuelles <&>",
        home_page_url=f"{BASE}/@stadt",
        language="de",
        author=FeedAuthor("Stadt Müllheim", f"{BASE}/@stadt"),
        subtitle="Meldungen der Stadtverwaltung",
        icon_url=f"{BASE}/static/icon.png",
        logo_url=f"{BASE}/static/logo.png",
        hub_url="https://hub.example/" if hub else None,
        alternates=tuple(FeedLink(url, k.mime_type, k.name) for k, url in SELF_URLS.items()),
    )


IMAGE_1 = FeedMedia(f"{BASE}/media/1.jpg", "image/jpeg", 48213, 1200, 800, "Karte: Umleitung über die Bahnhofstraße")
IMAGE_2 = FeedMedia(f"{BASE}/media/2.png", "image/png", None, None, None, 'Schild "Durchfahrt verboten" & Absperrung')
VIDEO = FeedMedia(f"{BASE}/media/3.mp4", "video/mp4", 900000, 640, 360, "Drohnenflug über die Baustelle")

WITH_IMAGES = FeedEntry(
    guid=f"{BASE}/users/stadt/statuses/1",
    url=f"{BASE}/@stadt/1",
    title="Straßensperrung Königsallee",
    content_html="<p>Ab Montag ist die Königsallee gesperrt.</p>",
    summary_text="Ab Montag ist die Königsallee gesperrt.",
    published=datetime(2026, 3, 3, 9, 15, tzinfo=CET),
    author=FeedAuthor("Presseamt", f"{BASE}/@presse"),
    tags=("verkehr", "baustelle"),
    media=(VIDEO, IMAGE_1, IMAGE_2),
)
WITH_CW = FeedEntry(
    guid=f"{BASE}/users/stadt/statuses/2",
    url=f"{BASE}/@stadt/2",
    content_html="<p>Schwerer Unfall auf der B 3, bitte den Bereich meiden.</p>",
    summary_text="Schwerer Unfall auf der B 3, bitte den Bereich meiden.",
    content_warning="Unfall mit Verletzten",
    published=datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc),
)
EDITED = FeedEntry(
    guid=f"{BASE}/users/stadt/statuses/3",
    url=f"{BASE}/@stadt/3",
    title="Öffnungszeiten (korrigiert)",
    content_html="<p>Das Bürgerbüro öffnet um 8 Uhr.</p>",
    summary_text="Das Bürgerbüro öffnet um 8 Uhr.",
    published=datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc),
    updated=datetime(2026, 3, 4, 12, 30, tzinfo=timezone.utc),
)
SPECIAL = FeedEntry(
    guid="tag:stadt.example,2026:post-4",
    url=f"{BASE}/@stadt/4",
    title='Tom & Jerry <script>alert("x")</script> – Ärger über „Zebrastreifen“ 🚸',
    content_html="<p>5 &lt; 7 &amp; &quot;Zitat&quot; – Grüße aus Köln 🎉</p>",
    summary_text='5 < 7 & "Zitat" – Grüße aus Köln 🎉',
    published=datetime(2026, 2, 28, 23, 59, 59, tzinfo=CET),
    language="de",
)
UNTITLED = FeedEntry(
    guid=f"{BASE}/users/stadt/statuses/5",
    url=f"{BASE}/@stadt/5",
    content_html="<p>Heute ist der Wertstoffhof wegen einer Betriebsversammlung ab 12 Uhr geschlossen, morgen wieder normal.</p>",
    summary_text="Heute ist der Wertstoffhof wegen einer Betriebsversammlung ab 12 Uhr geschlossen, morgen wieder normal.",
    published=datetime(2026, 2, 27, 7, 0, tzinfo=timezone.utc),
)

ENTRIES = (EDITED, WITH_IMAGES, WITH_CW, SPECIAL, UNTITLED)


def edited(entry: FeedEntry, when: datetime) -> FeedEntry:
    return replace(entry, updated=when)
