"""Link cards built by Stadtbote (Bluesky builds none itself): the page's OpenGraph title, description
and image, fetched through the guarded client; the image re-encoded under the thumbnail limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from activitypub.guard import GuardedSession, Response
from bridge.platforms.connectors.images import Fitted, fit_image

PAGE_LIMIT = 1_000_000
IMAGE_LIMIT = 10_000_000


@dataclass(frozen=True)
class Card:
    url: str
    title: str
    description: str
    image_url: str | None = None
    thumb: Fitted | None = None


class _MetaParser(HTMLParser):
    """Collects <meta property="og:…"> / <meta name="…"> and the <title> of the document head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "meta":
            key = (found.get("property") or found.get("name") or "").lower()
            if key and found.get("content") and key not in self.meta:
                self.meta[key] = found["content"] or ""
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title and not self.title:
            self.title = data.strip()


def parse_card(url: str, html: str) -> Card:
    parser = _MetaParser()
    parser.feed(html)
    meta = parser.meta
    title = meta.get("og:title") or meta.get("twitter:title") or parser.title or url
    description = meta.get("og:description") or meta.get("description") or ""
    image = meta.get("og:image") or meta.get("twitter:image")
    return Card(url, title.strip()[:300], description.strip()[:1000], urljoin(url, image) if image else None)


async def fetch_card(http: GuardedSession, url: str, thumb_bytes: int = 1_000_000) -> Card | None:
    """The card, or None when the page cannot be read (the post then goes without a card)."""
    page = await http.request("GET", url, headers={"Accept": "text/html"}, max_body=PAGE_LIMIT)
    if not isinstance(page, Response) or page.status != 200:
        return None
    card = parse_card(page.url, page.body.decode("utf-8", errors="replace"))
    if card.image_url is None:
        return card
    image = await http.request("GET", card.image_url, headers={"Accept": "image/*"}, max_body=IMAGE_LIMIT)
    if not isinstance(image, Response) or image.status != 200:
        return card
    # a foreign image of up to IMAGE_LIMIT bytes: decoded and re-encoded off the loop
    thumb = await asyncio.to_thread(fit_image, image.body, thumb_bytes, 1200, ("image/jpeg", "image/png"))
    return Card(card.url, card.title, card.description, card.image_url, thumb)
