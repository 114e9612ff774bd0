"""What the public templates are given: posts as view models, feed links, dates in the reader's language.

Posts go through the one conversion layer (`convert.post_to_feed_entry`), so a page and a feed never
disagree about a post's text, content warning, images or alt texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, USER
from bridge.config.model import ActorConfig, Config
from bridge.convert.feeds import post_to_feed_entry
from bridge.convert.polls import PollResults, results
from bridge.store.db import utcnow
from bridge.convert.events import address_line
from bridge.store.events import PostEvent, loaded_event
from bridge.store.polls import loaded_poll
from bridge.web.filters import format_when
from bridge.web.i18n import current_language
from bridge.store.models import Post
from bridge.web.render import render
from feeds.model import FeedEntry, FeedKind

ROBOTS_INDEX = "index, follow"
ROBOTS_NOINDEX = "noindex, nofollow"
FEED_LABELS = {FeedKind.RSS: "RSS", FeedKind.ATOM: "Atom", FeedKind.JSON: "JSON Feed"}


@dataclass(frozen=True)
class FeedLinkView:
    title: str
    url: str
    mime_type: str
    label: str


@dataclass(frozen=True)
class EventView:
    """An event as a page shows it: dates in the reader's language and the event's own zone."""

    title: str
    cancelled: bool
    when: str
    starts_iso: str
    where: str
    online_url: str
    calendar_url: str


def event_view(event: PostEvent, actor_name: str, uris: Uris) -> EventView:
    zone = ZoneInfo(event.timezone)
    language = current_language()

    def label(moment: datetime) -> str:
        text = format_when(moment, zone, language)
        return text.rsplit(",", 1)[0] if event.all_day else text  # a day without its (midnight) time

    when = label(event.starts_at)
    if event.ends_at is not None and label(event.ends_at) != when:
        when = _span(when, label(event.ends_at), event, zone)
    return EventView(event.title, event.cancelled, when, event.starts_at.isoformat(), address_line(event),
                     event.online_url, uris.feed(actor_name, "ics"))


def _span(start: str, end: str, event: PostEvent, zone: ZoneInfo) -> str:
    """"20. Dez. 2026, 18:00–23:00 MEZ" for an evening, not the day twice; across days (or a change of
    zone name within the day) both in full."""
    same_day = event.starts_at.astimezone(zone).date() == event.ends_at.astimezone(zone).date()
    (start_text, start_zone), (end_text, end_zone) = start.rsplit(" ", 1), end.rsplit(" ", 1)
    if event.all_day or not same_day or start_zone != end_zone or ", " not in end_text:
        return f"{start} – {end}"
    return f"{start_text}–{end_text.rsplit(', ', 1)[1]} {start_zone}"


@dataclass(frozen=True)
class PostView:
    id: int
    actor_name: str
    display_name: str
    entry: FeedEntry
    content: Markup  # sanitised by construction: rendered from plain text by bridge.text
    published_label: str
    edited_label: str | None
    acct: str
    poll: PollResults | None = None
    poll_ends_label: str = ""
    event: EventView | None = None

    @property
    def images(self):
        return [m for m in self.entry.media if m.kind == "image"]


def uris_for(request: web.Request) -> Uris:
    return Uris.for_base(request.app[CONFIG].instance.base_url)


def date_label(value: datetime, config: Config) -> str:
    return format_when(value, config.tz, current_language())


def post_view(post: Post, config: Config, uris: Uris) -> PostView:
    entry = post_to_feed_entry(post, config, uris, with_poll=False)
    actor_config = config.actor(post.actor.name)
    poll = loaded_poll(post)
    return PostView(
        id=post.id, actor_name=post.actor.name,
        display_name=actor_config.display_name if actor_config else post.actor.name,
        entry=entry, content=Markup(entry.content_html),
        published_label=date_label(entry.published, config),
        edited_label=date_label(entry.updated, config) if entry.edited and entry.updated else None,
        acct=f"{post.actor.name}@{uris.host}",
        poll=results(poll, utcnow()) if poll is not None else None,
        poll_ends_label=date_label(poll.expires_at, config) if poll is not None and poll.expires_at else "",
        event=event_view(event, post.actor.name, uris) if (event := loaded_event(post)) is not None else None,
    )


def feed_links(title: str, urls: dict[FeedKind, str]) -> list[FeedLinkView]:
    return [FeedLinkView(f"{title} ({FEED_LABELS[k]})", url, k.mime_type, FEED_LABELS[k]) for k, url in urls.items()]


def account_feeds(actor_config: ActorConfig, uris: Uris) -> list[FeedLinkView]:
    return feed_links(actor_config.display_name, {k: uris.feed(actor_config.name, k.value) for k in FeedKind})


def tag_feeds(tag: str, uris: Uris) -> list[FeedLinkView]:
    return feed_links(f"#{tag}", {k: uris.tag_feed(tag, k.value) for k in FeedKind})


def instance_feeds(config: Config, uris: Uris) -> list[FeedLinkView]:
    return feed_links(config.instance.name, {k: uris.instance_feed(k.value) for k in FeedKind})


def robots(actor_config: ActorConfig | None) -> str:
    return ROBOTS_INDEX if actor_config is None or actor_config.indexable else ROBOTS_NOINDEX


def public_page(request: web.Request, template: str, context: dict, status: int = 200) -> web.Response:
    """Render a public page: the instance feeds are always discoverable, pages are `index` unless a
    view says otherwise, and the response may be cached only by the reader's own browser."""
    config = request.app[CONFIG]
    uris = uris_for(request)
    base = {"uris": uris, "robots": ROBOTS_INDEX, "feeds": [], "instance_feeds": instance_feeds(config, uris),
            "canonical": None}
    base.update(context)
    response = render(request, template, base, status=status)
    # Signed-in editors see the same page; it carries nothing personal, but the middleware's
    # no-store for them stays (setdefault there), so only readers' responses are marked here.
    if request.get(USER) is None:
        response.headers["Cache-Control"] = f"public, max-age={config.cache.page_seconds}"
    return response


def not_found(request: web.Request, message: str) -> web.Response:
    return public_page(request, "public_404.html", {"message": message, "robots": ROBOTS_NOINDEX}, 404)


def int_cursor(value: str | None) -> int | None:
    """A `max_id`/`min_id` cursor; anything that is not a plausible id is ignored, not an error."""
    if value is None or not value.isdecimal() or len(value) > 19:  # isdigit() would pass "²", which int() refuses
        return None
    number = int(value)
    return number if 0 < number < 2**63 else None
