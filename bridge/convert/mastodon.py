"""The one conversion layer: posts, media and actors → the shapes other software reads.

Small pure functions, no database and no I/O: callers load what is needed and pass it in, so every
shape can be tested from plain objects. This module starts with the Mastodon REST entities of the
automation API (Status, ScheduledStatus, MediaAttachment, Account, Instance v1/v2); federation adds
`post_to_note` here, so that a post is turned into text, tags and links in exactly one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

from activitypub.uris import Uris
from bridge.config.model import LANGUAGES, ActorConfig, Config
from bridge.convert.images import ACCEPTED_TYPES, MAX_ALT
from bridge.convert.events import event_html, event_to_api
from bridge.convert.polls import limits as poll_limits, poll_to_api
from bridge.store.events import loaded_event
from bridge.store.db import utcnow
from bridge.store.polls import loaded_poll
from bridge.store.models import Actor, Media, MediaState, Post, PostRevision, PostState
from bridge.convert.text import URL_WEIGHT, ParsedText, parse_text, render_html

MASTODON_API_VERSION = "4.3.0"  # the Mastodon release whose REST shapes this subset follows
MASTODON_API_LEVEL = 2  # the api_versions.mastodon of that release
BOT_TYPES = ("Service", "Application")


@dataclass(frozen=True)
class AccountStats:
    """Counts an Account shows; loaded by the caller because this module never queries."""

    statuses_count: int = 0
    last_status_at: datetime | None = None


def mastodon_datetime(value: datetime | None) -> str | None:
    """Mastodon's datetime format: UTC, milliseconds, trailing Z (2019-12-08T03:48:33.901Z)."""
    if value is None:
        return None
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def version_string(stadtbote_version: str) -> str:
    # Client libraries parse the leading Mastodon version to decide which features exist; the
    # "(compatible; …)" suffix is how other servers (Pleroma, GoToSocial) name themselves.
    return f"{MASTODON_API_VERSION} (compatible; Stadtbote {stadtbote_version})"


def mention_url(uris: Uris, acct: str) -> str:
    user, _, host = acct.partition("@")
    if not host or host == uris.host:
        return uris.profile(user)
    return f"https://{host}/@{user}"


def content_html(text: str, uris: Uris) -> str:
    return render_html(parse_text(text, uris.host), uris.tag, lambda acct: mention_url(uris, acct))


def _mentions(parsed: ParsedText, uris: Uris) -> list[dict]:
    result = []
    for acct in parsed.mentions:
        user, _, host = acct.partition("@")
        local = host == uris.host
        # Remote accounts have no id here (no account table for them in the bridge); Mastodon's id is
        # a string "not guaranteed to be a number", so the acct itself is a stable stand-in.
        short = user if local else acct
        result.append({"id": short, "username": user, "url": mention_url(uris, acct), "acct": short})
    return result


def _tags(parsed: ParsedText, uris: Uris) -> list[dict]:
    return [{"name": tag.lower(), "url": uris.tag(tag.lower())} for tag in parsed.hashtags]


def media_to_attachment(media: Media, uris: Uris) -> dict:
    ready = media.state not in (MediaState.PROCESSING, MediaState.FAILED)
    url = uris.media(media.filename) if ready else None  # Mastodon's null while a video is processed
    size = {"width": media.width, "height": media.height, "size": f"{media.width}x{media.height}",
            "aspect": media.width / media.height if media.height else 1.0}
    # No thumbnails are made (images are already re-encoded at a bounded size): preview = original; a video's
    # preview is its poster frame.
    preview = uris.media(media.poster_filename) if media.poster_filename and ready else url
    original = dict(size)
    if media.is_video and media.duration_ms:
        original["duration"] = media.duration_ms / 1000
    return {
        "id": str(media.id),
        "type": "video" if media.is_video else "image",
        "url": url,
        "preview_url": preview,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {"original": original, "small": dict(size)},
        "description": media.alt or None,
        "blurhash": None,
    }


def _avatar(actor_config: ActorConfig, uris: Uris) -> str:
    if actor_config.has_avatar:
        return avatar_url(uris, actor_config)
    return uris.url("/avatars/original/missing.png")


def _header(actor_config: ActorConfig, uris: Uris) -> str:
    if actor_config.header_file:
        return header_url(uris, actor_config)
    return uris.url("/headers/original/missing.png")


def _picture_version(filename: str | None) -> str:
    # "avatar-stadt-<12 hex>.png": the random part names this picture
    return (filename or "").rsplit("-", 1)[-1].removesuffix(".png")


def avatar_url(uris: Uris, account: ActorConfig) -> str:
    """A new picture gets a new address, so that servers which cached the old one fetch it again."""
    url = uris.avatar(account.name)
    return f"{url}?v={_picture_version(account.avatar_file)}" if account.avatar_file else url


def header_url(uris: Uris, account: ActorConfig) -> str:
    return uris.url(f"/headers/{account.name}.png?v={_picture_version(account.header_file)}")


def actor_to_account(actor: Actor, actor_config: ActorConfig, uris: Uris,
                     stats: AccountStats = AccountStats(), *, with_source: bool = False,
                     language: str = "en") -> dict:
    """An authority's account as Mastodon's Account (CredentialAccount when `with_source`)."""
    created = actor.created_at.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    account = {
        "id": str(actor.id),
        "username": actor.name,
        "acct": actor.name,  # local accounts carry no @host, as in Mastodon
        "display_name": actor_config.display_name,
        "locked": False,
        "bot": actor_config.type in BOT_TYPES,
        "discoverable": True,
        "indexable": True,
        "group": actor_config.type == "Group",
        "created_at": mastodon_datetime(created),  # Mastodon shows only the day
        "note": content_html(actor_config.summary, uris) if actor_config.summary else "",
        "url": uris.profile(actor.name),
        "uri": uris.actor(actor.name),
        # Without a picture Mastodon, too, answers with a placeholder path.
        "avatar": _avatar(actor_config, uris),
        "avatar_static": _avatar(actor_config, uris),
        "header": _header(actor_config, uris),
        "header_static": _header(actor_config, uris),
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": stats.statuses_count,
        "last_status_at": stats.last_status_at.astimezone(timezone.utc).date().isoformat()
        if stats.last_status_at else None,
        # The followers and following lists are never shown (no lists of people), so they are hidden: say so.
        "hide_collections": True,
        "noindex": not actor_config.indexable,
        "emojis": [],
        "roles": [],
        "fields": account_fields(actor_config, html=True),
    }
    if with_source:
        account["source"] = {"privacy": "public", "sensitive": False, "language": language,
                             "note": actor_config.summary, "fields": account_fields(actor_config, html=False),
                             "follow_requests_count": 0}
    return account


def account_fields(actor_config: ActorConfig, html: bool) -> list[dict]:
    pairs = actor_config.fields or ((("Website", actor_config.website),) if actor_config.website else ())
    return [{"name": name, "value": _field_value(value) if html else value, "verified_at": None}
            for name, value in pairs]


def _field_value(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        return escape(value)
    return f'<a href="{escape(value)}" rel="nofollow noopener noreferrer me" target="_blank">{escape(value)}</a>'


@dataclass(frozen=True)
class InteractionCounts:
    """A Status's counters: how many replies, boosts and likes the post received (never who)."""

    replies: int = 0
    reblogs: int = 0
    favourites: int = 0


def post_to_status(post: Post, config: Config, uris: Uris, stats: AccountStats = AccountStats(), *,
                   source: bool = False, waiting_edit: str | None = None,
                   counts: InteractionCounts = InteractionCounts()) -> dict:
    """A post as Mastodon's Status. With `source` (the answer to DELETE) the plain `text` replaces
    `content`, as Mastodon does for delete-and-redraft. `waiting_edit` is the state of an edit that
    waits for a second editor (four-eyes): the Status still shows the published text. `counts` are the
    consent store's `{"likes", "boosts", "replies"}` (numbers only: it keeps no lists of people)."""
    counts = counts or {}
    parsed = parse_text(post.text, uris.host)
    status = {
        "id": str(post.id),
        "created_at": mastodon_datetime(post.published_at or post.created_at),
        "edited_at": mastodon_datetime(post.edited_at),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": bool(post.spoiler_text),  # Mastodon marks every post with a content warning sensitive
        "spoiler_text": post.spoiler_text,
        "visibility": "public",  # an authority publishes publicly only
        "language": post.language,
        "uri": uris.note(post.actor.name, str(post.id)),
        "url": uris.permalink(post.actor.name, str(post.id)) if _has_page(post) else None,
        "replies_count": counts.replies, "reblogs_count": counts.reblogs, "favourites_count": counts.favourites,
        "favourited": False, "reblogged": False, "muted": False, "bookmarked": False,
        "pinned": post.pinned,
        "reblog": None,
        "application": {"name": "Stadtbote", "website": None},
        "account": _post_account(post, config, uris, stats),
        "media_attachments": [media_to_attachment(m, uris) for m in post.media],
        "mentions": _mentions(parsed, uris),
        "tags": _tags(parsed, uris),
        "emojis": [],
        "card": None,
        "poll": poll_to_api(poll, utcnow()) if (poll := loaded_poll(post)) is not None else None,
        "filtered": [],
        # Vendor extension (like Pleroma's "pleroma" key): Mastodon has no "awaiting approval" or
        # "scheduled" state for a Status, so scripts that care read it here; other clients ignore it.
        "stadtbote": {"state": post.state} | ({"edit": waiting_edit} if waiting_edit else {}),
    }
    event = loaded_event(post)
    if event is not None:  # Mastodon has no event entity: its facts in the vendor key, and ahead of the text
        status["stadtbote"]["event"] = event_to_api(event, uris.feed(post.actor.name, "ics"))
    status["text" if source else "content"] = post.text if source else (event_html(event) if event else "") + \
        render_html(parsed, uris.tag, lambda acct: mention_url(uris, acct))
    return status


def _post_account(post: Post, config: Config, uris: Uris, stats: AccountStats) -> dict:
    return actor_to_account(post.actor, config.actor(post.actor.name) or placeholder_actor_config(post.actor),
                            uris, stats)


def post_to_history(post: Post, revisions: list[PostRevision], config: Config, uris: Uris,
                    stats: AccountStats = AccountStats()) -> list[dict]:
    """Mastodon's StatusEdit list, oldest first, the current version last (an unedited post has one).

    A revision keeps the text an edit replaced, stamped with the time of that edit; so each old text
    dates from the edit before it (or the publication), and the current text from the last edit.
    Revisions keep no images: only the current version shows attachments."""
    account = _post_account(post, config, uris, stats)
    start = post.published_at or post.created_at
    versions = []
    for revision in sorted(revisions, key=lambda r: (r.created_at, r.id)):
        versions.append((revision.text, revision.spoiler_text, start, []))
        start = revision.created_at
    versions.append((post.text, post.spoiler_text, post.edited_at or start, post.media))
    return [{"content": content_html(text, uris), "spoiler_text": spoiler, "sensitive": bool(spoiler),
             "created_at": mastodon_datetime(at), "account": account, "poll": None,
             "media_attachments": [media_to_attachment(m, uris) for m in media], "emojis": []}
            for text, spoiler, at, media in versions]


def post_to_source(post: Post) -> dict:
    """Mastodon's StatusSource: the plain text an app puts into its edit form."""
    return {"id": str(post.id), "text": post.text, "spoiler_text": post.spoiler_text}


def relationship(account_id: int) -> dict:
    """Mastodon's Relationship. An authority's account follows, blocks and mutes no one through the API,
    and the store keeps no list of who follows whom for a token to read: every flag is false."""
    return {"id": str(account_id), "following": False, "showing_reblogs": False, "notifying": False,
            "languages": None, "followed_by": False, "blocking": False, "blocked_by": False, "muting": False,
            "muting_notifications": False, "requested": False, "requested_by": False, "domain_blocking": False,
            "endorsed": False, "note": ""}


def empty_context() -> dict:
    """Mastodon's Context. Stadtbote posts are not threads of statuses the API knows (answers to citizens
    go to remote notes, which the store keeps no Status of), so both lists are empty."""
    return {"ancestors": [], "descendants": []}


def _has_page(post: Post) -> bool:
    # Before publication the permalink answers 404 to the public, so no URL is handed out for it.
    return post.state in (PostState.PUBLISHED, PostState.DELETED)


def placeholder_actor_config(actor: Actor) -> ActorConfig:
    # An actor removed from the config keeps its old posts readable; it just loses its profile text.
    return ActorConfig(actor.name, actor.name, "", "Organization", False, None)


def post_to_scheduled_status(post: Post, uris: Uris, idempotency_key: str | None = None) -> dict:
    """A post that waits for its time (or its approval) as Mastodon's ScheduledStatus; the id is the
    post's id, so the same id works with GET and DELETE /api/v1/statuses/:id."""
    return {
        "id": str(post.id),
        "scheduled_at": mastodon_datetime(post.scheduled_at),
        "params": {
            "text": post.text,
            "media_ids": [str(m.id) for m in post.media] or None,
            "sensitive": None,
            "spoiler_text": post.spoiler_text or None,
            "visibility": "public",
            "language": post.language,
            "scheduled_at": None,  # Mastodon: null, the status is scheduled only once
            "poll": None,
            "idempotency": idempotency_key,
            "with_rate_limit": False,
            "in_reply_to_id": None,
            "application_id": None,
        },
        "media_attachments": [media_to_attachment(m, uris) for m in post.media],
    }


@dataclass(frozen=True)
class InstanceFacts:
    """What the Instance entities show beyond the config; gathered by the caller."""

    stadtbote_version: str
    accounts: int = 0
    statuses: int = 0
    contact_account: dict | None = None


def _contact_email(config: Config) -> str:
    contact = config.privacy.dpo_contact or ""
    return contact.removeprefix("mailto:") if "@" in contact and "://" not in contact else ""


def _languages(config: Config) -> list[str]:
    return [config.instance.language] + [lang for lang in LANGUAGES if lang != config.instance.language]


def _statuses_configuration(config: Config) -> dict:
    return {"max_characters": config.limits.max_characters, "max_media_attachments": config.limits.max_images,
            "characters_reserved_per_url": URL_WEIGHT}


def _media_configuration(config: Config) -> dict:
    # Images only: video and audio limits are 0 so that clients do not offer what would be refused.
    return {"supported_mime_types": list(ACCEPTED_TYPES), "image_size_limit": config.limits.max_image_bytes,
            "image_matrix_limit": config.limits.max_image_pixels, "video_size_limit": 0,
            "video_frame_rate_limit": 0, "video_matrix_limit": 0, "description_limit": MAX_ALT}


def _polls_configuration() -> dict:
    return poll_limits()


def _description(config: Config) -> str:
    return f"{config.instance.name}: official announcements, published on the authority's own server."


def instance_v1(config: Config, uris: Uris, facts: InstanceFacts) -> dict:
    return {
        "uri": uris.host,
        "title": config.instance.name,
        "short_description": _description(config),
        "description": escape(_description(config)),
        "email": _contact_email(config),
        "version": version_string(facts.stadtbote_version),
        "urls": {},  # no streaming API
        "stats": {"user_count": facts.accounts, "status_count": facts.statuses, "domain_count": 0},
        "thumbnail": None,
        "languages": _languages(config),
        "registrations": False,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {"accounts": {"max_featured_tags": 0}, "statuses": _statuses_configuration(config),
                          "media_attachments": _media_configuration(config), "polls": _polls_configuration()},
        "contact_account": facts.contact_account,
        "rules": [],
    }


def instance_v2(config: Config, uris: Uris, facts: InstanceFacts) -> dict:
    return {
        "domain": uris.host,
        "title": config.instance.name,
        "version": version_string(facts.stadtbote_version),
        # Mastodon 4.3 numbers its API (2); clients such as Mastodon.py check it before the version string.
        "api_versions": {"mastodon": MASTODON_API_LEVEL},
        "source_url": None,  # no canonical public repository yet; null rather than a made-up link
        "description": _description(config),
        "usage": {"users": {"active_month": facts.accounts}},
        # Mastodon always has a thumbnail; Stadtbote ships none yet, so the URL is null, not a dead link.
        "thumbnail": {"url": None},
        "languages": _languages(config),
        "configuration": {
            "urls": {"streaming": None, "status": None},
            "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
            "statuses": _statuses_configuration(config),
            "media_attachments": _media_configuration(config),
            "polls": _polls_configuration(),
            "translation": {"enabled": False},
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "contact": {"email": _contact_email(config), "account": facts.contact_account},
        "rules": [],
    }
