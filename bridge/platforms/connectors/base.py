"""The connector contract: one subclass of `Connector` per platform kind, in `bridge/connectors/<kind>.py`.

How the machinery (`bridge.mirroring`) uses a connector, and what a connector must guarantee:

* A connector is built per job: `Connector(platform, http, account, clock)`. `platform` is the
  `[[platforms]]` table (credentials are `Secret`s: use `.value`, never log them); `http` is the guarded
  client (`activitypub.guard.GuardedSession`) — every platform call and every fetch goes through it;
  `account` is the cached state of the platform account (session, instance limits, cursor) which the
  connector may change (the machinery stores it, encrypted, after the call); `clock` gives "now".
* `capabilities()` declares limits and features (`Capabilities`), possibly refined by `account.limits`
  (a Mastodon instance's configuration). The editor's preview and the worker use the same numbers.
* `render(post)` is pure and synchronous: it turns a `PostView` into a `Rendered` — exactly the text the
  platform gets, its length in the platform's unit, the images that go along, and notes for the editor
  (what is lost, e.g. alt text on Telegram). Over-long text is shortened by `render.fit_text`, never cut.
* `publish(rendered, handle)` sends it. `handle` is stable per (post, platform) — the idempotency key
  (Mastodon), the record key seed (Bluesky). It returns a `Result`: SENT with a `Remote`, or a failure
  classified so that the machinery knows what is safe:
    - UNAVAILABLE: the request never left (DNS, connection refused, address refused) — safe to retry;
    - UNKNOWN: it left and no clear answer came (timeout, 5xx, malformed 2xx) — the post may exist;
      the machinery calls `reconcile` before anything else, never a blind retry;
    - RATE_LIMITED with `retry_at`: the whole platform pauses until then (other platforms go on);
    - AUTH_FAILED: the account goes to "reconnect needed" (no retry storm);
    - REJECTED: the platform refused this content (too long, bad media): failed, with its message.
* `reconcile(handle, rendered, since)` (`since`: when the first request left) answers SENT (with the `Remote`: it exists), NOT_FOUND (it does not:
  publishing again is safe) or UNKNOWN (cannot tell: the editor decides — Telegram always).
* `edit(remote, rendered)`, `delete(remote)`: UNSUPPORTED when the platform cannot (Bluesky edits), or
  MANUAL when the editor must act by hand (Telegram deletes after 48 h).
* `fetch_replies(remote)` returns a `ReplyBatch`: public replies only, opt-outs already skipped, only
  the minimal fields of `PlatformReply`; `complete` says whether the absence of a reply means deletion.
* `render_answer(text, language)` and `answer(target, rendered, handle)` answer a citizen's reply collected by
  backfeed, as the account, in the platform's thread (`AnswerTarget`: the reply's platform id and our post's
  `Remote`); `reconcile_answer(target, rendered, handle, since)` finds out after an unknown outcome whether
  the answer exists (default: undecidable, the editor decides). The same outcomes as `publish`.
* `fetch_metrics(remote)` returns `Metrics`: the aggregate public counts the platform's API gives for our
  post (likes, reposts, replies …, keys from `METRIC_NAMES`), never who; UNSUPPORTED where the API has none.
* `close_poll(remote)` ends the platform's own poll of our post when ours closes (Telegram `stopPoll`) and
  returns its final counts as `Metrics`; UNSUPPORTED where there is none or the API cannot close it.
* `check_credentials()` answers SENT (fine) or AUTH_FAILED, and may refresh `account.limits`.
* Connectors never touch the database, never raise for network or platform errors (they return a
  `Result`), and put only reason codes and the platform's short error text into results — no tokens.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, ClassVar

from activitypub.guard import GuardedSession
from bridge.config.model import PlatformConfig


class TextUnit(enum.StrEnum):
    GRAPHEMES = "graphemes"  # user-perceived characters (Unicode extended grapheme clusters)
    CHARACTERS = "characters"  # code points, each URL weighted (Mastodon)
    UTF16 = "utf16"  # UTF-16 code units (Telegram counts entities and lengths in these)
    WEIGHTED = "weighted"  # X: weighted characters

    @property
    def label(self) -> str:
        return {"graphemes": "graphemes", "characters": "characters", "utf16": "characters (UTF-16)",
                "weighted": "weighted characters"}[self]


class LinkCards(enum.StrEnum):
    NONE = "none"
    SERVER = "server"  # the platform fetches OpenGraph itself
    CLIENT = "client"  # we must build the card (Bluesky)


class Idempotency(enum.StrEnum):
    KEY = "key"  # an Idempotency-Key header (Mastodon, kept 1 h)
    RECORD_KEY = "record_key"  # a client-chosen record key; reconcile by reading it (Bluesky)
    CONTAINER = "container"  # a container/draft id known before publishing (Instagram, Threads)
    LOOKUP = "lookup"  # no handle: reconcile by finding our text among the account's recent posts
    NONE = "none"  # nothing: an unknown outcome goes to the editor (Telegram)


@dataclass(frozen=True)
class Capabilities:
    text_limit: int
    text_unit: TextUnit
    byte_limit: int | None = None  # a second limit in UTF-8 bytes (Bluesky 3000)
    url_weight: int | None = None  # every URL counts this much (Mastodon 23); None: its own length
    caption_limit: int | None = None  # text limit when images go along (Telegram 1024)
    max_images: int = 4
    image_max_bytes: int = 1_000_000
    image_max_side: int | None = None
    image_formats: tuple[str, ...] = ("image/jpeg", "image/png")
    alt_text: bool = True
    alt_limit: int | None = None
    link_cards: LinkCards = LinkCards.SERVER
    can_edit: bool = True
    can_delete: bool = True
    delete_window: timedelta | None = None
    replies_readable: bool = True
    idempotency: Idempotency = Idempotency.NONE
    requires_image: bool = False
    content_warning: bool = False  # a separate spoiler/CW field exists
    manual_route: bool = False  # no API: an editor posts the prepared text by hand and marks it done (XING)
    # Video upload: a connector that sets `video` sends `PostView.videos` itself (and leaves out their poster
    # frames, `ImageView.poster`); the others get the poster frame as an image and a link to the page.
    video: bool = False
    video_max_bytes: int | None = None
    video_max_seconds: int | None = None
    video_captions: bool = False  # the platform takes a captions file (YouTube); else the description only
    requires_video: bool = False  # a post without a video cannot go there (YouTube)


@dataclass(frozen=True)
class ImageView:
    path: str  # the stored, already EXIF-free file
    mime_type: str
    alt: str
    width: int
    height: int
    poster: bool = False  # the still frame of a video in `PostView.videos` (same position)


@dataclass(frozen=True)
class VideoView:
    """A post's video as stored: an H.264/AAC MP4 without metadata, its poster frame and its WebVTT captions
    (or the editor's declaration that nothing is spoken)."""

    path: str
    mime_type: str
    description: str  # the editor's description, the video's alt text
    width: int
    height: int
    duration_ms: int
    size: int
    poster_path: str | None = None
    captions_path: str | None = None  # WebVTT
    no_speech: bool = False


@dataclass(frozen=True)
class PollView:
    """The post's poll, for platforms with native polls (Mastodon, X); the others link to the page."""

    options: tuple[str, ...]
    multiple: bool
    expires_in: int  # seconds
    hide_totals: bool = False


@dataclass(frozen=True)
class PostView:
    """What a renderer may know about a post: no database objects, so rendering stays pure."""

    post_id: int
    text: str
    spoiler_text: str
    language: str
    permalink: str
    images: tuple[ImageView, ...] = ()
    published_at: datetime | None = None
    poll: PollView | None = None
    videos: tuple[VideoView, ...] = ()

    @property
    def own_images(self) -> tuple[ImageView, ...]:
        """The images without the poster frames of videos: what a connector with video upload sends as images."""
        return tuple(i for i in self.images if not i.poster)


@dataclass(frozen=True)
class Rendered:
    text: str  # exactly what the platform gets (Telegram: its HTML subset)
    length: int  # in `unit`
    limit: int
    unit: TextUnit
    shortened: bool = False
    images: tuple[ImageView, ...] = ()
    link: str | None = None  # the page a link card is built for
    notes: tuple[str, ...] = ()  # for the editor: what the platform loses or does differently
    extra: dict = field(default_factory=dict)  # platform specifics (facets, spoiler, language …)
    blocked: "Reason | None" = None  # why this post cannot go to this platform at all

    @property
    def fits(self) -> bool:
        return self.blocked is None and self.length <= self.limit


class Outcome(enum.StrEnum):
    SENT = "sent"  # done (or, from reconcile/check: exists / fine)
    UNKNOWN = "unknown"
    UNAVAILABLE = "unavailable"
    RATE_LIMITED = "rate_limited"
    AUTH_FAILED = "auth_failed"
    REJECTED = "rejected"
    NOT_FOUND = "not_found"
    UNSUPPORTED = "unsupported"
    MANUAL = "manual"


class Reason(enum.StrEnum):
    OK = "ok"
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    MALFORMED_RESPONSE = "malformed_response"
    CONNECTION_FAILED = "connection_failed"
    REFUSED_ADDRESS = "refused_address"
    RATE_LIMITED = "rate_limited"
    INVALID_CREDENTIALS = "invalid_credentials"
    REJECTED = "rejected"
    NOT_FOUND = "not_found"
    EDIT_UNSUPPORTED = "edit_unsupported"
    DELETE_TOO_LATE = "delete_too_late"
    DELETE_UNSUPPORTED = "delete_unsupported"
    IMAGE_REQUIRED = "image_required"
    IMAGE_UNUSABLE = "image_unusable"
    UNDECIDABLE = "undecidable"
    REPLIES_UNAVAILABLE = "replies_unavailable"
    ANSWER_UNSUPPORTED = "answer_unsupported"
    MANUAL_ROUTE = "manual_route"
    REPLY_GONE = "reply_gone"
    METRICS_UNAVAILABLE = "metrics_unavailable"
    VIDEO_UNUSABLE = "video_unusable"
    VIDEO_PROCESSING = "video_processing"
    VIDEO_REQUIRED = "video_required"
    POLL_UNSUPPORTED = "poll_unsupported"

    @property
    def description(self) -> str:
        return REASON_TEXT[self]


REASON_TEXT = {
    Reason.OK: "done",
    Reason.TIMEOUT: "the platform did not answer in time; the post may or may not exist there",
    Reason.SERVER_ERROR: "the platform answered with a server error; the post may or may not exist there",
    Reason.MALFORMED_RESPONSE: "the platform's answer could not be read; the post may or may not exist there",
    Reason.CONNECTION_FAILED: "the platform could not be reached; nothing was sent",
    Reason.REFUSED_ADDRESS: "the platform's address is not allowed; nothing was sent",
    Reason.RATE_LIMITED: "the platform asked us to slow down; sending resumes automatically",
    Reason.INVALID_CREDENTIALS: "the platform refused the account's credentials: reconnect needed",
    Reason.REJECTED: "the platform refused the post",
    Reason.NOT_FOUND: "the platform does not know this post",
    Reason.EDIT_UNSUPPORTED: "the platform cannot edit posts; the old text stays there",
    Reason.DELETE_TOO_LATE: "the platform no longer allows deleting this post: remove it there by hand",
    Reason.DELETE_UNSUPPORTED: "the platform's API cannot delete posts: remove it there by hand",
    Reason.IMAGE_REQUIRED: "the platform requires an image",
    Reason.IMAGE_UNUSABLE: "an image could not be prepared for the platform",
    Reason.UNDECIDABLE: "the platform offers no way to find out whether the post exists: decide by hand",
    Reason.REPLIES_UNAVAILABLE: "the platform's replies could not be read",
    Reason.ANSWER_UNSUPPORTED: "replies on this platform cannot be answered from Stadtbote",
    Reason.MANUAL_ROUTE: "the platform has no publishing API: post the prepared text there by hand",
    Reason.REPLY_GONE: "the reply no longer exists on the platform",
    Reason.METRICS_UNAVAILABLE: "the platform's API gives no public figures for this post",
    Reason.VIDEO_UNUSABLE: "the video could not be processed for the platform",
    Reason.VIDEO_PROCESSING: "the platform is still processing the video; nothing was posted yet, sending is tried again",
    Reason.VIDEO_REQUIRED: "the platform takes only videos: this post has none",
    Reason.POLL_UNSUPPORTED: "the platform's copy has no poll of its own that Stadtbote could close",
}

# The aggregate figures a platform may report for a post, under one name each whatever the platform calls them.
METRIC_NAMES = ("likes", "reposts", "replies", "quotes", "views")


@dataclass(frozen=True)
class Remote:
    """The platform's handle of our post: enough to edit, delete, reconcile and read replies."""

    id: str  # Bluesky at:// URI, Mastodon status id, Telegram message id
    url: str | None = None  # the public page, for the editor
    extra: dict = field(default_factory=dict)  # cid, rkey, chat id, further message ids …


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: Reason = Reason.OK
    detail: str = ""  # the platform's own short error text (no bodies, no tokens), for the editor
    remote: Remote | None = None
    retry_at: datetime | None = None

    @property
    def description(self) -> str:
        text = self.reason.description
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class PlatformReply:
    """The minimal fields kept of a public reply on a platform (data minimisation)."""

    reply_id: str  # the platform's id of the reply (at:// URI, status URI, chat:message)
    author_id: str  # a stable platform identifier of the author (did:plc:…, actor URI, telegram:123)
    text: str
    created_at: datetime | None
    url: str | None = None
    root_id: str | None = None  # our post's remote id when one poll covers several posts (Telegram)


@dataclass(frozen=True)
class ReplyBatch:
    result: Result
    replies: tuple[PlatformReply, ...] = ()
    gone: tuple[str, ...] = ()  # reply ids known to be deleted on the platform
    complete: bool = False  # True: every reply that exists was returned, so absence means deletion
    skipped: int = 0  # replies left out for opt-out signals or visibility


@dataclass(frozen=True)
class AnswerTarget:
    """A citizen's reply an answer goes to: its platform id as backfeed stored it (`PlatformReply.reply_id`)
    and our mirrored post that starts the thread."""

    reply_id: str
    root: Remote


@dataclass(frozen=True)
class Metrics:
    """A platform's own public counts for our post, as it reports them: numbers only, never who."""

    result: Result
    counts: dict[str, int] = field(default_factory=dict)  # keys from METRIC_NAMES
    poll: tuple[int, ...] | None = None  # votes per option of the platform's native poll, in our option order
    poll_voters: int | None = None  # people who voted there, where the platform says (multiple choice: fewer than votes)

    def stored(self) -> dict:
        """What is kept on the send (`PlatformSend.metrics`): the counts, and the poll's under their own keys."""
        kept: dict = dict(self.counts)
        if self.poll is not None:
            kept["poll"] = list(self.poll)
        if self.poll_voters is not None:
            kept["poll_voters"] = self.poll_voters
        return kept


def counted(data: object, names: dict[str, str]) -> dict[str, int]:
    """The platform's integer fields `names` (theirs -> ours) found in `data`; anything else is left out."""
    if not isinstance(data, dict):
        return {}
    return {ours: data[theirs] for theirs, ours in names.items()
            if isinstance(data.get(theirs), int) and not isinstance(data.get(theirs), bool) and data[theirs] >= 0}


def metrics_of(failure: Result | None, data: object, names: dict[str, str],
               poll: tuple[int, ...] | None = None, poll_voters: int | None = None) -> Metrics:
    """The counts in a read's answer (already classified by the platform's rules), or the failure as it is."""
    counts = counted(data, names) if failure is None else {}
    if failure is None and not counts:
        failure = Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no counts in the answer")
    return (Metrics(failure) if failure is not None else Metrics(Result(Outcome.SENT), counts, poll,
                                                                 poll_voters if poll is not None else None))


def poll_votes(options: object, key: str) -> tuple[int, ...] | None:
    """Votes per option from a platform's list of option objects (`key` holds the number), None if unreadable."""
    if not isinstance(options, list) or not options:
        return None
    votes = [o.get(key) if isinstance(o, dict) else None for o in options]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in votes):
        return None
    return tuple(votes)


@dataclass
class AccountState:
    """Cached state of one platform account, kept by the machinery between jobs (session encrypted)."""

    session: dict | None = None  # tokens: never log
    limits: dict = field(default_factory=dict)  # e.g. a Mastodon instance's configuration
    cursor: str | None = None  # e.g. Telegram's getUpdates offset
    token_expires_at: datetime | None = None


Clock = Callable[[], datetime]


class Connector(ABC):
    """One platform account. Subclasses set `kind` and implement the methods below."""

    kind: ClassVar[str]

    def __init__(self, platform: PlatformConfig, http: GuardedSession, account: AccountState, clock: Clock):
        self.platform = platform
        self.http = http
        self.account = account
        self.clock = clock

    def secret(self, name: str, default: str | None = None) -> str | None:
        value = self.platform.credentials.get(name)
        if value is None:
            return default
        return getattr(value, "value", value)

    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abstractmethod
    def render(self, post: PostView) -> Rendered: ...

    @abstractmethod
    async def publish(self, rendered: Rendered, handle: str) -> Result: ...

    @abstractmethod
    async def reconcile(self, handle: str, rendered: Rendered, since: datetime | None) -> Result: ...

    @abstractmethod
    async def edit(self, remote: Remote, rendered: Rendered) -> Result: ...

    @abstractmethod
    async def delete(self, remote: Remote) -> Result: ...

    @abstractmethod
    async def fetch_replies(self, remote: Remote) -> ReplyBatch: ...

    @abstractmethod
    async def check_credentials(self) -> Result: ...

    def answer_length(self, text: str) -> int:
        """The answer's length in the platform's unit; connectors whose unit is not code points override it."""
        return len(text)

    def answer_limit(self) -> int:
        return self.capabilities().text_limit

    def render_answer(self, text: str, language: str) -> Rendered:
        """An answer is never shortened (there is no page with the full text to link to): too long is refused."""
        caps = self.capabilities()
        return Rendered(text, self.answer_length(text), self.answer_limit(), caps.text_unit,
                        extra={"language": language})

    async def answer(self, target: AnswerTarget, rendered: Rendered, handle: str) -> Result:
        return Result(Outcome.UNSUPPORTED, Reason.ANSWER_UNSUPPORTED)

    async def reconcile_answer(self, target: AnswerTarget, rendered: Rendered, handle: str,
                               since: datetime | None) -> Result:
        """Platforms without a handle for answers cannot be asked: the editor checks and decides."""
        return Result(Outcome.UNKNOWN, Reason.UNDECIDABLE, "")

    async def fetch_metrics(self, remote: Remote) -> Metrics:
        return Metrics(Result(Outcome.UNSUPPORTED, Reason.METRICS_UNAVAILABLE))

    async def close_poll(self, remote: Remote) -> Metrics:
        return Metrics(Result(Outcome.UNSUPPORTED, Reason.POLL_UNSUPPORTED))
