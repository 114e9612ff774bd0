"""A post as a feed entry, and the channel data of the account, hashtag and instance feeds.

The GUID is the post's ActivityPub id, so a reader and a fediverse server name it alike.
"""

from __future__ import annotations

from activitypub.uris import Uris
from bridge.config.model import ActorConfig, Config
from bridge.convert.mastodon import mention_url, placeholder_actor_config
from bridge.convert.events import event_html
from bridge.convert.polls import results_html
from bridge.store.db import utcnow
from bridge.store.events import loaded_event
from bridge.store.polls import loaded_poll
from bridge.store.models import Media, Post
from bridge.convert.text import parse_text, render_html
from feeds.model import FeedAuthor, FeedEntry, FeedKind, FeedLink, FeedMedia, FeedMeta


def media_to_feed_media(media: Media, uris: Uris, language: str | None = None) -> FeedMedia:
    # A decorative image has no description on purpose; None keeps feeds from inventing one.
    return FeedMedia(url=uris.media(media.filename), mime_type=media.mime_type, length=media.size,
                     width=media.width, height=media.height, alt_text=(media.alt or None) if not media.decorative
                     else None,
                     poster_url=uris.media(media.poster_filename) if media.poster_filename else None,
                     captions_url=uris.media(media.captions_filename) if media.captions_filename else None,
                     captions_language=language or "de")


def post_to_feed_entry(post: Post, config: Config, uris: Uris, *, with_poll: bool = True) -> FeedEntry:
    """`with_poll`: the event's lines and the poll's results in the content (feeds); pages show their own."""
    name = post.actor.name
    actor_config = config.actor(name) or placeholder_actor_config(post.actor)
    parsed = parse_text(post.text, uris.host)
    published = post.published_at or post.created_at
    return FeedEntry(
        guid=uris.note(name, str(post.id)),
        url=uris.permalink(name, str(post.id)),
        content_html=(_event_html(post) if with_poll else "")
        + render_html(parsed, uris.tag, lambda acct: mention_url(uris, acct))
        + (_poll_html(post) if with_poll else ""),
        summary_text=" ".join(post.text.split()),
        published=published,
        content_warning=post.spoiler_text or None,
        updated=post.edited_at if post.edited_at and post.edited_at > published else None,
        author=FeedAuthor(actor_config.display_name, uris.profile(name)),
        tags=tuple(tag.lower() for tag in parsed.hashtags),
        media=tuple(media_to_feed_media(m, uris, post.language) for m in post.media),
        language=post.language,
    )


def _event_html(post: Post) -> str:
    event = loaded_event(post)
    return event_html(event) if event is not None else ""


def _poll_html(post: Post) -> str:
    poll = loaded_poll(post)
    return results_html(poll, utcnow()) if poll is not None else ""


def _feed_links(urls: dict[FeedKind, str], title: str) -> tuple[FeedLink, ...]:
    return tuple(FeedLink(url, kind.mime_type, f"{title} ({kind.name})") for kind, url in urls.items())


def actor_feed_meta(actor_config: ActorConfig, config: Config, uris: Uris, kind: FeedKind) -> FeedMeta:
    name = actor_config.name
    urls = {k: uris.feed(name, k.value) for k in FeedKind}
    return FeedMeta(self_url=urls[kind], title=actor_config.display_name, home_page_url=uris.profile(name),
                    language=config.instance.language, author=FeedAuthor(actor_config.display_name,
                                                                         uris.profile(name)),
                    subtitle=actor_config.summary or None, hub_url=config.feeds.websub_hub,
                    alternates=_feed_links(urls, actor_config.display_name))


def tag_feed_meta(tag: str, config: Config, uris: Uris, kind: FeedKind) -> FeedMeta:
    urls = {k: uris.tag_feed(tag, k.value) for k in FeedKind}
    title = f"#{tag} – {config.instance.name}"
    return FeedMeta(self_url=urls[kind], title=title, home_page_url=uris.tag(tag),
                    language=config.instance.language, author=FeedAuthor(config.instance.name, uris.url("/")),
                    hub_url=config.feeds.websub_hub, alternates=_feed_links(urls, title))


def instance_feed_meta(config: Config, uris: Uris, kind: FeedKind) -> FeedMeta:
    urls = {k: uris.instance_feed(k.value) for k in FeedKind}
    title = config.instance.name
    return FeedMeta(self_url=urls[kind], title=title, home_page_url=uris.url("/"),
                    language=config.instance.language, author=FeedAuthor(title, uris.url("/")),
                    hub_url=config.feeds.websub_hub, alternates=_feed_links(urls, title))
