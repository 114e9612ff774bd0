"""The rules a post must meet, in one place: the web form, the API, the CLI and approval all ask here.

`check_draft` returns every reason at once, each with the field it belongs to, so that a form can show
them all next to their fields and the API can name them all in one answer.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.auth.users import may_use_actor
from bridge.config.model import LANGUAGES, Config
from bridge.convert.images import MAX_ALT
from bridge.convert.text import count_characters
from bridge.publishing.eventrules import EventDraft, event_problems
from bridge.publishing.pollrules import PollDraft, poll_problems
from bridge.store.models import Actor, Media, MediaState, Post, User

MAX_CW = 500
# Far enough for a planned anniversary; a typo such as the year 9999 is refused rather than stored.
MAX_SCHEDULE_AHEAD = timedelta(days=730)


class PostReason(enum.StrEnum):
    OK = "ok"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    CW_TOO_LONG = "cw_too_long"
    TOO_MANY_IMAGES = "too_many_images"
    MISSING_ALT = "missing_alt"
    MISSING_CAPTIONS = "missing_captions"
    MISSING_VIDEO_DESCRIPTION = "missing_video_description"
    VIDEO_NOT_ALONE = "video_not_alone"
    VIDEO_PROCESSING = "video_processing"
    VIDEO_FAILED = "video_failed"
    ALT_TOO_LONG = "alt_too_long"
    UNKNOWN_MEDIA = "unknown_media"
    UNKNOWN_ACTOR = "unknown_actor"
    ACTOR_NOT_ALLOWED = "actor_not_allowed"
    SCHEDULE_IN_PAST = "schedule_in_past"
    SCHEDULE_TOO_FAR = "schedule_too_far"
    INVALID_LANGUAGE = "invalid_language"
    UNKNOWN_PLATFORM = "unknown_platform"
    NOT_FOUND = "not_found"
    WRONG_STATE = "wrong_state"
    OWN_POST = "own_post"
    OWN_EDIT = "own_edit"
    TEXT_CHANGED = "text_changed"
    POLL_TOO_FEW_OPTIONS = "poll_too_few_options"
    POLL_TOO_MANY_OPTIONS = "poll_too_many_options"
    POLL_OPTION_TOO_LONG = "poll_option_too_long"
    POLL_DUPLICATE_OPTIONS = "poll_duplicate_options"
    POLL_TOO_SHORT = "poll_too_short"
    POLL_TOO_LONG = "poll_too_long"
    POLL_WITH_MEDIA = "poll_with_media"
    EVENT_NO_TITLE = "event_no_title"
    EVENT_TITLE_TOO_LONG = "event_title_too_long"
    EVENT_NO_START = "event_no_start"
    EVENT_ENDS_BEFORE_START = "event_ends_before_start"
    EVENT_BAD_TIMEZONE = "event_bad_timezone"
    EVENT_BAD_LINK = "event_bad_link"
    EVENT_WITH_POLL = "event_with_poll"
    ACCOUNT_RETIRED = "account_retired"

    @property
    def description(self) -> str:
        return POST_TEXT[self]


POST_TEXT = {
    PostReason.OK: "done",
    PostReason.EMPTY: "write some text or attach an image",
    PostReason.TOO_LONG: "the text is longer than allowed",
    PostReason.CW_TOO_LONG: "the content warning is too long",
    PostReason.TOO_MANY_IMAGES: "too many images",
    PostReason.MISSING_ALT: "every image needs alt text, or must be marked as decorative",
    PostReason.ALT_TOO_LONG: "alt text may have at most 1500 characters",
    PostReason.MISSING_CAPTIONS: "captions are missing: a video needs WebVTT captions or the declaration "
                                 "that nothing is spoken in it",
    PostReason.MISSING_VIDEO_DESCRIPTION: "a video needs a description",
    PostReason.VIDEO_NOT_ALONE: "a post has one video and no other media",
    PostReason.VIDEO_PROCESSING: "cannot attach files that have not finished processing; try again in a moment",
    PostReason.VIDEO_FAILED: "the video could not be processed; upload another file",
    PostReason.UNKNOWN_MEDIA: "an attached image does not exist or is already used",
    PostReason.UNKNOWN_ACTOR: "no such account",
    PostReason.ACTOR_NOT_ALLOWED: "you may not post as this account",
    PostReason.SCHEDULE_IN_PAST: "the scheduled time must be in the future",
    PostReason.SCHEDULE_TOO_FAR: "the scheduled time may be at most two years ahead",
    PostReason.INVALID_LANGUAGE: "unsupported language",
    PostReason.UNKNOWN_PLATFORM: "no such platform account in the configuration",
    PostReason.NOT_FOUND: "no such post",
    PostReason.WRONG_STATE: "the post is not in a state that allows this",
    PostReason.OWN_POST: "nobody approves their own post; another editor of this account must",
    PostReason.OWN_EDIT: "nobody approves their own edit; another editor of this account must",
    PostReason.TEXT_CHANGED: "the post changed while you reviewed it; review it again",
    PostReason.POLL_TOO_FEW_OPTIONS: "a poll needs at least two options",
    PostReason.POLL_TOO_MANY_OPTIONS: "a poll has too many options",
    PostReason.POLL_OPTION_TOO_LONG: "a poll option is too long",
    PostReason.POLL_DUPLICATE_OPTIONS: "poll options must differ from each other",
    PostReason.POLL_TOO_SHORT: "a poll must run at least five minutes",
    PostReason.POLL_TOO_LONG: "a poll may run at most one month",
    PostReason.POLL_WITH_MEDIA: "a post with a poll cannot have images",
    PostReason.EVENT_NO_TITLE: "an event needs a title",
    PostReason.EVENT_TITLE_TOO_LONG: "the event's title is too long",
    PostReason.EVENT_NO_START: "an event needs a start (date and time)",
    PostReason.EVENT_ENDS_BEFORE_START: "the event ends before it starts",
    PostReason.EVENT_BAD_TIMEZONE: "unknown time zone",
    PostReason.EVENT_BAD_LINK: "the online link must be a web address (https://…)",
    PostReason.EVENT_WITH_POLL: "a post is either an event or a poll",
    PostReason.ACCOUNT_RETIRED: "this account is retired and takes no more posts",
}


class DraftField(enum.StrEnum):
    """Where a refusal belongs: the parts of a draft, named as the API names them."""

    ACTOR = "actor"
    TEXT = "status"
    SPOILER_TEXT = "spoiler_text"
    LANGUAGE = "language"
    MEDIA = "media_ids"
    SCHEDULED_AT = "scheduled_at"
    MIRRORS = "mirrors"
    POLL = "poll"
    EVENT = "event"


@dataclass(frozen=True)
class Refusal:
    """One rule a draft breaks; `facts` carry what a message needs (counts, limits, which image)."""

    reason: PostReason
    field: DraftField
    facts: dict = field(default_factory=dict)

    @property
    def description(self) -> str:
        return self.reason.description


@dataclass(frozen=True)
class ReplyTarget:
    """The remote note a post answers, and its author (actor id and "@user@host"), to mention and cc."""

    note_id: str
    actor_uri: str
    handle: str


@dataclass(frozen=True)
class Description:
    """What an image is to say to people who cannot see it; applied when the post (or its edit) takes effect."""

    media_id: int
    alt: str
    decorative: bool = False


@dataclass(frozen=True)
class Draft:
    """What an editor, script or CLI user asks to publish."""

    actor: str
    text: str
    spoiler_text: str = ""
    language: str | None = None
    media_ids: tuple[int, ...] = ()
    scheduled_at: datetime | None = None
    mirrors: tuple[str, ...] = ()
    via: str = "web"  # "web", "cli", "api" — recorded in the audit entry
    reply_to: ReplyTarget | None = None  # an answer as the account to a citizen's reply
    # New descriptions of the images; an image without one keeps what it has.
    descriptions: tuple[Description, ...] = ()
    poll: PollDraft | None = None  # a poll attached on creation (edits keep the poll as it is)
    event: EventDraft | None = None  # an event announced on creation (changed on the event's own form)

    def description_of(self, media: Media) -> Description:
        for d in self.descriptions:
            if d.media_id == media.id:
                return Description(media.id, d.alt.strip(), d.decorative and not d.alt.strip())
        return Description(media.id, media.alt, media.decorative)


@dataclass(frozen=True)
class DraftCheck:
    refusals: list[Refusal]
    media: list[Media]

    @property
    def ok(self) -> bool:
        return not self.refusals


def fingerprint(text: str, spoiler_text: str, language: str, images: list[tuple[str, str]]) -> str:
    """Fingerprint of exactly what a reviewer saw: text, warning, language and (file, alt) of each image."""
    parts = [text, spoiler_text, language] + [f"{filename}|{alt}" for filename, alt in images]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def content_sha256(post: Post) -> str:
    return fingerprint(post.text, post.spoiler_text, post.language, [(m.filename, m.alt) for m in post.media])


async def check_draft(session: AsyncSession, config: Config, user: User, draft: Draft,
                      now: datetime, post: Post | None = None) -> DraftCheck:
    """Every rule the draft breaks (none: it may be stored), and its images in order."""
    account = config.actor(draft.actor)
    if account is None:
        return DraftCheck([Refusal(PostReason.UNKNOWN_ACTOR, DraftField.ACTOR)], [])
    if account.retired:
        return DraftCheck([Refusal(PostReason.ACCOUNT_RETIRED, DraftField.ACTOR)], [])
    if not may_use_actor(user, draft.actor):
        return DraftCheck([Refusal(PostReason.ACTOR_NOT_ALLOWED, DraftField.ACTOR)], [])
    refusals = _settings(config, draft)
    media = await _load_media(session, draft, post) if len(draft.media_ids) <= config.limits.max_images else []
    if len(draft.media_ids) > config.limits.max_images:
        refusals.append(Refusal(PostReason.TOO_MANY_IMAGES, DraftField.MEDIA, {"limit": config.limits.max_images}))
    elif media is None:
        refusals.append(Refusal(PostReason.UNKNOWN_MEDIA, DraftField.MEDIA))
    refusals += _text(config, draft, bool(draft.media_ids)) + _images(draft, media or []) + _schedule(draft, now)
    refusals += _poll(draft) + _event(draft)
    return DraftCheck(refusals, media or [])


def _settings(config: Config, draft: Draft) -> list[Refusal]:
    refusals = []
    if draft.language is not None and draft.language not in LANGUAGES:
        refusals.append(Refusal(PostReason.INVALID_LANGUAGE, DraftField.LANGUAGE))
    known = {p.id for p in config.platforms}
    if any(m not in known for m in draft.mirrors):
        refusals.append(Refusal(PostReason.UNKNOWN_PLATFORM, DraftField.MIRRORS))
    return refusals


def _poll(draft: Draft) -> list[Refusal]:
    if draft.poll is None:
        return []
    refusals = [Refusal(PostReason(code), DraftField.POLL, facts) for code, facts in poll_problems(draft.poll)]
    if draft.media_ids:  # Mastodon's rule: a status has either a poll or media
        refusals.append(Refusal(PostReason.POLL_WITH_MEDIA, DraftField.POLL))
    return refusals


def _event(draft: Draft) -> list[Refusal]:
    if draft.event is None:
        return []
    refusals = [Refusal(PostReason(code), DraftField.EVENT, facts) for code, facts in event_problems(draft.event)]
    if draft.poll is not None:
        refusals.append(Refusal(PostReason.EVENT_WITH_POLL, DraftField.EVENT))
    return refusals


def _schedule(draft: Draft, now: datetime) -> list[Refusal]:
    if draft.scheduled_at is None:
        return []
    if draft.scheduled_at <= now:
        return [Refusal(PostReason.SCHEDULE_IN_PAST, DraftField.SCHEDULED_AT)]
    if draft.scheduled_at - now > MAX_SCHEDULE_AHEAD:
        return [Refusal(PostReason.SCHEDULE_TOO_FAR, DraftField.SCHEDULED_AT,
                        {"limit": MAX_SCHEDULE_AHEAD.days})]
    return []


def _text(config: Config, draft: Draft, has_images: bool) -> list[Refusal]:
    refusals = []
    if not draft.text.strip() and not has_images:
        refusals.append(Refusal(PostReason.EMPTY, DraftField.TEXT))
    count, limit = count_characters(draft.text) + len(draft.spoiler_text), config.limits.max_characters
    if count > limit:
        refusals.append(Refusal(PostReason.TOO_LONG, DraftField.TEXT, {"count": count, "limit": limit}))
    if len(draft.spoiler_text) > MAX_CW:
        refusals.append(Refusal(PostReason.CW_TOO_LONG, DraftField.SPOILER_TEXT, {"limit": MAX_CW}))
    return refusals


def _images(draft: Draft, media: list[Media]) -> list[Refusal]:
    refusals = []
    if len(media) > 1 and any(m.is_video for m in media):  # Mastodon's rule: one video, alone
        refusals.append(Refusal(PostReason.VIDEO_NOT_ALONE, DraftField.MEDIA))
    for position, m in enumerate(media):
        described = draft.description_of(m)
        if m.state in (MediaState.PROCESSING, MediaState.FAILED):  # a video its job has not converted (yet)
            reason = PostReason.VIDEO_PROCESSING if m.state == MediaState.PROCESSING else PostReason.VIDEO_FAILED
            refusals.append(Refusal(reason, DraftField.MEDIA, {"position": position, "failure": m.failure or ""}))
        if m.is_video:
            # BITV 2.0 / WCAG 1.2.2: captions (or nothing to caption) and a description, or it stays a draft.
            if not m.captions_filename and not m.no_speech:
                refusals.append(Refusal(PostReason.MISSING_CAPTIONS, DraftField.MEDIA, {"position": position}))
            if not described.alt:
                refusals.append(Refusal(PostReason.MISSING_VIDEO_DESCRIPTION, DraftField.MEDIA,
                                        {"position": position}))
        elif not described.alt and not described.decorative:
            refusals.append(Refusal(PostReason.MISSING_ALT, DraftField.MEDIA, {"position": position}))
        elif len(described.alt) > MAX_ALT:
            refusals.append(Refusal(PostReason.ALT_TOO_LONG, DraftField.MEDIA,
                                    {"position": position, "limit": MAX_ALT}))
    return refusals


async def _load_media(session: AsyncSession, draft: Draft, post: Post | None) -> list[Media] | None:
    """The draft's images in order, or None if one is missing, another account's or another post's."""
    if not draft.media_ids:
        return []
    actor_id = await session.scalar(select(Actor.id).where(Actor.name == draft.actor))
    rows = {m.id: m for m in (await session.scalars(select(Media).where(Media.id.in_(draft.media_ids)))).all()}
    media = [rows.get(i) for i in draft.media_ids]
    if not all(usable_media(m, actor_id, post) for m in media):
        return None
    return media  # type: ignore[return-value]


def usable_media(media: Media | None, actor_id: int | None, post: Post | None) -> bool:
    """An image a draft may use: uploaded for the draft's account, and not part of another post."""
    return media is not None and media.actor_id == actor_id and media.post_id in (None, post.id if post else None)
