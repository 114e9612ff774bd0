"""Render RSS 2.0 and Atom 1.0 with feedgen, and JSON Feed 1.1 by hand (feedgen has no JSON Feed).

Rendering is deterministic: the same meta and entries give the same bytes (no `now()`, entries in
the order given), so a strong ETag computed from the inputs stays truthful.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from feeds import presentation as p
from feeds.jsonfeed import render_json_feed
from feeds.model import FeedEntry, FeedKind, FeedMedia, FeedMeta, latest_change

__all__ = ["render_rss", "render_atom", "render_json_feed", "render"]

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
_EXT = "stadtbote"


def render_rss(meta: FeedMeta, entries: Sequence[FeedEntry]) -> bytes:
    fg = _generator(meta, entries, FeedKind.RSS)
    for entry in entries:
        _rss_item(fg, entry)
    return fg.rss_str(pretty=False, encoding="UTF-8", xml_declaration=True)


def render_atom(meta: FeedMeta, entries: Sequence[FeedEntry]) -> bytes:
    fg = _generator(meta, entries, FeedKind.ATOM)
    for entry in entries:
        _atom_entry(fg, entry)
    return fg.atom_str(pretty=False, encoding="UTF-8", xml_declaration=True)


def render(kind: FeedKind, meta: FeedMeta, entries: Sequence[FeedEntry]) -> bytes:
    """Dispatch on the kind, for routes that serve all three formats from one handler."""
    return _RENDERERS[kind](meta, entries)


def _generator(meta: FeedMeta, entries: Sequence[FeedEntry], kind: FeedKind) -> FeedGenerator:
    x = p.clean_text
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.register_extension(_EXT, _ChannelExtension, _MediaEntryExtension)
    getattr(fg, _EXT).configure(meta, kind)
    fg.id(x(meta.id))
    fg.title(x(meta.title))
    fg.subtitle(x(meta.subtitle or meta.title))  # also the RSS channel description, which is required
    fg.author({"name": x(meta.author.name), **({"uri": meta.author.url} if meta.author.url else {})})
    fg.language(meta.language)
    fg.generator(meta.generator)
    changed = latest_change(meta, list(entries))
    fg.updated(changed)  # also RSS lastBuildDate; feedgen would otherwise stamp now()
    if kind is FeedKind.RSS:
        # RSS: channel <link> is the home page; feedgen takes the last rel=alternate link for it.
        fg.link(href=meta.self_url, rel="self", type=kind.mime_type)
        fg.link(href=meta.home_page_url, rel="alternate")
        if meta.logo_url or meta.icon_url:
            fg.image(url=meta.logo_url or meta.icon_url, title=x(meta.title), link=meta.home_page_url)
    else:
        fg.link(href=meta.home_page_url, rel="alternate", type="text/html")
        fg.link(href=meta.self_url, rel="self", type=kind.mime_type)
        if meta.hub_url:
            fg.link(href=meta.hub_url, rel="hub")
        for alt in meta.alternates:
            if alt.href != meta.self_url:
                fg.link(href=alt.href, rel="alternate", type=alt.media_type, **_title(alt.title))
        if meta.icon_url:
            fg.icon(meta.icon_url)
        if meta.logo_url:
            fg.logo(meta.logo_url)
    return fg


def _title(title: str | None) -> dict[str, str]:
    return {"title": p.clean_text(title)} if title else {}


def _rss_item(fg: FeedGenerator, entry: FeedEntry) -> None:
    x = p.clean_text
    fe = fg.add_entry(order="append")
    fe.guid(x(entry.guid), permalink=entry.guid == entry.url)
    title = p.display_title(entry)
    if title:  # RSS 2.0 allows untitled items; microblog posts have no title
        fe.title(x(title))
    fe.link(href=entry.url, rel="alternate")
    # <description> is read as HTML by readers, so escape the plain text once more.
    content = x(p.content_html(entry))
    fe.description(x(escape(p.summary(entry), quote=False)).strip() or content)
    fe.content(content)
    fe.pubDate(entry.published)
    if entry.author:
        fe.dc.dc_creator(x(entry.author.name))
    for tag in entry.tags:
        fe.category(term=x(tag))
    enclosure = p.first_enclosure(entry)
    if enclosure:
        fe.enclosure(url=enclosure.url, length=str(enclosure.length or 0), type=enclosure.mime_type)
    ext = getattr(fe, _EXT)
    ext.entry = entry
    ext.media = entry.media


def _atom_entry(fg: FeedGenerator, entry: FeedEntry) -> None:
    x = p.clean_text
    fe = fg.add_entry(order="append")
    fe.id(x(entry.guid))
    fe.title(x(p.required_title(entry)))
    fe.updated(entry.last_changed)
    fe.published(entry.published)
    fe.content(x(p.content_html(entry)), type="html")
    summary = p.summary(entry)
    if summary:
        fe.summary(x(summary), type="text")
    if entry.author:
        fe.author({"name": x(entry.author.name), **({"uri": entry.author.url} if entry.author.url else {})})
    for tag in entry.tags:
        fe.category(term=x(tag), label=x(tag))
    ext = getattr(fe, _EXT)
    ext.entry = entry
    ext.media = entry.media


class _ChannelExtension(BaseExtension):
    """Adds to the RSS channel what feedgen does not: WebSub rel="hub" and alternate formats."""

    def __init__(self) -> None:
        self.meta: FeedMeta | None = None
        self.kind = FeedKind.RSS

    def configure(self, meta: FeedMeta, kind: FeedKind) -> None:
        self.meta, self.kind = meta, kind

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS}

    def extend_rss(self, feed):  # noqa: ANN001, ANN201 - lxml element, feedgen's hook signature
        if self.meta is None:
            return feed
        channel = feed.find("channel")
        if self.meta.hub_url:
            xml_elem(f"{{{ATOM_NS}}}link", channel, href=self.meta.hub_url, rel="hub")
        for alt in self.meta.alternates:
            if alt.href != self.meta.self_url:
                link = xml_elem(f"{{{ATOM_NS}}}link", channel, href=alt.href, rel="alternate", type=alt.media_type)
                if alt.title:
                    link.set("title", p.clean_text(alt.title))
        return feed


class _MediaEntryExtension(BaseEntryExtension):
    """Media RSS: one media:content per attachment, alt text as media:description (feedgen's own media
    extension cannot express descriptions and groups unrelated images together)."""

    def __init__(self) -> None:
        self.entry: FeedEntry | None = None
        self.media: tuple[FeedMedia, ...] = ()

    def extend_rss(self, item):  # noqa: ANN001, ANN201
        if self.entry is not None and self.entry.edited:
            # RSS 2.0 has no per-item modification date; atom:updated is the namespaced extension
            # readers (feedparser among them) understand, so edits are visible there too.
            updated = xml_elem(f"{{{ATOM_NS}}}updated", item)
            updated.text = self.entry.last_changed.isoformat()
        self._media_content(item)
        return item

    def _media_content(self, item):  # noqa: ANN001, ANN202
        for media in self.media:
            content = xml_elem(f"{{{MEDIA_NS}}}content", item, url=media.url, type=media.mime_type)
            content.set("medium", media.kind.value)
            for attr, value in (("fileSize", media.length), ("width", media.width), ("height", media.height)):
                if value is not None:
                    content.set(attr, str(value))
            if media.alt_text:
                desc = xml_elem(f"{{{MEDIA_NS}}}description", content, type="plain")
                desc.text = p.clean_text(media.alt_text)

    def extend_atom(self, element):  # noqa: ANN001, ANN201
        # feedgen 1.0 drops rel/type/title/length of entry links (it reads them from the new element,
        # not from the data), so the entry's links are written here.
        entry = self.entry
        if entry is None:
            return element
        if entry.language:
            element.set("{http://www.w3.org/XML/1998/namespace}lang", entry.language)
        xml_elem(f"{{{ATOM_NS}}}link", element, href=entry.url, rel="alternate", type="text/html")
        for media in entry.media:
            link = xml_elem(f"{{{ATOM_NS}}}link", element, href=media.url, rel="enclosure", type=media.mime_type)
            if media.length is not None:
                link.set("length", str(media.length))
            if media.alt_text:
                link.set("title", p.clean_text(media.alt_text))
        self._media_content(element)
        return element


_RENDERERS = {FeedKind.RSS: render_rss, FeedKind.ATOM: render_atom, FeedKind.JSON: render_json_feed}
