"""The compose form as typed: parsed from the multipart body, checked field by field.

Everything the editor typed is kept in `ComposeForm`, so a form with a problem comes back exactly as it
was sent — text, warning, alt texts, schedule and the images already uploaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import BinaryIO
from zoneinfo import ZoneInfo

from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from bridge.config.model import Config
from bridge.convert.captions import CaptionReason
from bridge.convert.images import MediaReason
from bridge.convert.videos import VideoReason
from bridge.convert.polls import MAX_OPTIONS
from bridge.publishing.drafts import DraftField, PostReason, Refusal
from bridge.publishing.eventrules import EventDraft, valid_timezone
from bridge.publishing.pollrules import PollDraft
from bridge.convert.text import count_characters
from bridge.web.guards import int_param
from bridge.web.messages import N_, Problem

IMAGE_PROBLEMS = {
    MediaReason.TOO_LARGE: N_("Image %(n)s is larger than the limit of %(limit)s."),
    MediaReason.TOO_MANY_PIXELS: N_("Image %(n)s has more than %(limit)s pixels."),
    MediaReason.UNSUPPORTED_TYPE: N_("Image %(n)s: only JPEG, PNG, WebP and GIF images are accepted."),
    MediaReason.BROKEN_IMAGE: N_("Image %(n)s could not be read as an image. "
                                 "Only JPEG, PNG, WebP and GIF images are accepted."),
    MediaReason.EMPTY: N_("Image %(n)s: the file is empty."),
}

VIDEO_PROBLEMS = {
    VideoReason.EMPTY: N_("The video file is empty."),
    VideoReason.TOO_LARGE: N_("The video is larger than the limit of %(limit)s."),
    VideoReason.TOO_LONG: N_("The video is longer than the limit of %(seconds)s seconds."),
    VideoReason.NOT_A_VIDEO: N_("The file could not be read as a video. MP4, WebM and MOV videos are accepted."),
    VideoReason.PROBE_TIMEOUT: N_("Reading the video took too long. Try a shorter or smaller file."),
    VideoReason.CONVERT_FAILED: N_("The video could not be converted. Try another file."),
    VideoReason.CONVERT_TIMEOUT: N_("Converting the video took too long. Try a shorter or smaller file."),
    VideoReason.FFMPEG_MISSING: N_("This server cannot process videos at the moment (ffmpeg is missing)."),
    VideoReason.RAW_MISSING: N_("The uploaded video file is no longer there. Upload the video again."),
}
CAPTION_PROBLEMS = {
    CaptionReason.EMPTY: N_("The captions file is empty."),
    CaptionReason.TOO_LARGE: N_("The captions file is larger than 1 MB."),
    CaptionReason.NOT_TEXT: N_("The captions file is not UTF-8 text."),
    CaptionReason.NO_HEADER: N_("Captions, line %(line)s: a WebVTT file starts with the line WEBVTT."),
    CaptionReason.BAD_TIMING: N_("Captions, line %(line)s: a cue timing line must look like "
                                 "00:00:01.000 --> 00:00:04.000."),
    CaptionReason.END_BEFORE_START: N_("Captions, line %(line)s: the cue ends before it starts."),
    CaptionReason.NO_CUES: N_("The captions file has no cues."),
}

# Where a reason of the post service shows in the form, and how it is worded there.
FIELDS = {
    DraftField.ACTOR: "actor", DraftField.TEXT: "text", DraftField.SPOILER_TEXT: "spoiler_text",
    DraftField.LANGUAGE: "language", DraftField.MIRRORS: "mirrors", DraftField.SCHEDULED_AT: "publish_at",
    DraftField.POLL: "poll",
    DraftField.EVENT: "event",
}
REFUSALS = {
    PostReason.EMPTY: N_("Write some text or attach an image."),
    PostReason.TOO_LONG: N_("The text has %(count)s characters; at most %(limit)s are allowed."),
    PostReason.CW_TOO_LONG: N_("The content warning may have at most %(limit)s characters."),
    PostReason.INVALID_LANGUAGE: N_("Choose the language of the post."),
    PostReason.UNKNOWN_PLATFORM: N_("Choose only platforms from the list."),
    PostReason.MISSING_ALT: N_("Image %(n)s needs alt text that describes it, or mark it as decorative."),
    PostReason.ALT_TOO_LONG: N_("The alt text of image %(n)s may have at most %(limit)s characters."),
    PostReason.MISSING_CAPTIONS: N_("Captions are missing: add a WebVTT captions file, or declare that "
                                    "nothing is spoken in the video."),
    PostReason.MISSING_VIDEO_DESCRIPTION: N_("Describe the video for people who cannot see it."),
    PostReason.VIDEO_NOT_ALONE: N_("A post with a video cannot have images. Remove the images or the video."),
    PostReason.VIDEO_PROCESSING: N_("The video is still being processed. Send the form again in a minute; "
                                    "everything you entered is kept."),
    PostReason.VIDEO_FAILED: N_("The video could not be processed. Remove it and upload another file."),
    PostReason.SCHEDULE_IN_PAST: N_("Publish at: the time must be in the future."),
    PostReason.SCHEDULE_TOO_FAR: N_("Publish at: the time may be at most two years ahead."),
    PostReason.ACTOR_NOT_ALLOWED: N_("You may not post as this account."),
    PostReason.POLL_TOO_FEW_OPTIONS: N_("A poll needs at least two answers."),
    PostReason.POLL_TOO_MANY_OPTIONS: N_("A poll may have at most %(limit)s answers."),
    PostReason.POLL_OPTION_TOO_LONG: N_("Each answer may have at most %(limit)s characters."),
    PostReason.POLL_DUPLICATE_OPTIONS: N_("Two answers are the same; each answer must be different."),
    PostReason.POLL_TOO_SHORT: N_("Choose how long the poll runs."),
    PostReason.POLL_TOO_LONG: N_("Choose how long the poll runs."),
    PostReason.POLL_WITH_MEDIA: N_("A post with a poll cannot have images. Remove the images or the poll."),
    PostReason.EVENT_NO_TITLE: N_("Give the event a title."),
    PostReason.EVENT_TITLE_TOO_LONG: N_("The event's title may have at most %(limit)s characters."),
    PostReason.EVENT_NO_START: N_("Enter when the event starts (date and time)."),
    PostReason.EVENT_ENDS_BEFORE_START: N_("The event ends before it starts. Check the start and the end."),
    PostReason.EVENT_BAD_TIMEZONE: N_("Unknown time zone. Use a name such as Europe/Berlin."),
    PostReason.EVENT_BAD_LINK: N_("The online link must be a web address starting with https://."),
    PostReason.EVENT_WITH_POLL: N_("A post is either an event or a poll. Remove one of them."),
}
# How long a poll runs, in seconds: Mastodon's choices, with a day as the default.
POLL_DURATIONS = ((300, N_("5 minutes")), (1800, N_("30 minutes")), (3600, N_("1 hour")), (21600, N_("6 hours")),
                  (86400, N_("1 day")), (259200, N_("3 days")), (604800, N_("7 days")), (1209600, N_("14 days")),
                  (2592000, N_("30 days")))
DEFAULT_POLL_DURATION = 86400


@dataclass
class ImageSlot:
    """One image of the form: a new upload, or an image uploaded before (kept by its media id)."""

    index: int
    alt: str = ""
    decorative: bool = False
    remove: bool = False
    media_id: int | None = None
    upload: bytes | None = None
    preview: str | None = None  # file name of the stored image, for the preview

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def used(self) -> bool:
        return not self.remove and (self.media_id is not None or self.upload is not None)


@dataclass
class VideoSlot:
    """The form's one video: a new upload with its captions file, or a video uploaded before (by media id)."""

    description: str = ""
    no_speech: bool = False
    remove: bool = False
    media_id: int | None = None
    upload: BinaryIO | None = None  # the body's file part, on disk: read in chunks by the upload
    captions: bytes | None = None
    has_captions: bool = False  # the stored video has a captions file
    poster: str | None = None  # file name of its poster frame, for the preview
    processing: bool = False  # its `video.process` job has not finished yet

    @property
    def used(self) -> bool:
        return not self.remove and (self.media_id is not None or self.upload is not None)


@dataclass
class ComposeForm:
    actor: str = ""
    text: str = ""
    spoiler_text: str = ""
    language: str = ""
    publish_at: str = ""
    mirrors: list[str] = field(default_factory=list)
    images: list[ImageSlot] = field(default_factory=list)
    poll_options: list[str] = field(default_factory=lambda: [""] * MAX_OPTIONS)
    poll_duration: str = str(DEFAULT_POLL_DURATION)
    poll_multiple: bool = False
    poll_hide_totals: bool = False
    event: "EventFields" = field(default_factory=lambda: EventFields())
    video: VideoSlot = field(default_factory=VideoSlot)

    def poll(self) -> PollDraft | None:
        """The poll as typed, or None when no answer was written (a post without a poll)."""
        if not any(o.strip() for o in self.poll_options):
            return None
        duration = int(self.poll_duration) if self.poll_duration.isdecimal() and len(self.poll_duration) < 9 else 0
        return PollDraft(tuple(self.poll_options), duration, self.poll_multiple, self.poll_hide_totals)

    @property
    def characters(self) -> int:
        return count_characters(self.text) + len(self.spoiler_text)

    def media_ids(self) -> tuple[int, ...]:
        images = tuple(s.media_id for s in self.images if s.used and s.media_id is not None)
        video = (self.video.media_id,) if self.video.used and self.video.media_id is not None else ()
        return images + video


@dataclass
class EventFields:
    """The event part of the form, as typed (times in the event's own zone)."""

    title: str = ""
    start: str = ""
    end: str = ""
    all_day: bool = False
    timezone: str = ""
    place_name: str = ""
    street_address: str = ""
    postal_code: str = ""
    locality: str = ""
    online_url: str = ""

    @property
    def used(self) -> bool:
        return bool(self.title or self.start or self.end or self.place_name or self.online_url)

    def draft(self, config: Config) -> tuple[list[Problem], EventDraft | None]:
        """The event in UTC, or None when no event part was filled in; an unreadable end is a problem."""
        if not self.used:
            return [], None
        zone = self.timezone if valid_timezone(self.timezone) else config.instance.timezone
        start, end = read_local(self.start, zone, self.all_day), read_local(self.end, zone, self.all_day)
        problems = [Problem("event", N_("End: enter a date and a time."))] if self.end and end is None else []
        return problems, EventDraft(self.title.strip(), start, end, self.all_day, self.timezone.strip(),
                                    self.place_name, self.street_address, self.postal_code, self.locality,
                                    self.online_url)


def read_local(value: str, zone: str, all_day: bool) -> datetime | None:
    """A `datetime-local` (or, all day, a date) in the event's zone, as UTC; None if unreadable. An explicit
    offset (the API's ISO 8601 times may carry one) is kept, except for a whole day, which is a date."""
    if not value:
        return None
    try:
        local = datetime.fromisoformat(value.strip())
        if local.tzinfo is not None and not all_day:
            return local.astimezone(timezone.utc)
        local = local.replace(tzinfo=None)
        if all_day:
            local = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return local.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def event_fields(form: MultiDictProxy, default_zone: str) -> EventFields:
    return EventFields(
        title=_text(form, "event_title").strip(), start=_text(form, "event_start").strip(),
        end=_text(form, "event_end").strip(), all_day=bool(form.get("event_all_day")),
        timezone=_text(form, "event_timezone").strip() or default_zone,
        place_name=_text(form, "event_place").strip(), street_address=_text(form, "event_street").strip(),
        postal_code=_text(form, "event_postal_code").strip(), locality=_text(form, "event_locality").strip(),
        online_url=_text(form, "event_online_url").strip())


def _text(form: MultiDictProxy, name: str) -> str:
    value = form.get(name, "")
    # Browsers send CRLF in textareas; stored text uses LF like every other entry path.
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def _file(value) -> BinaryIO | None:
    """A chosen file, unread (a video may be hundreds of megabytes)."""
    if not isinstance(value, FileField) or not value.filename:
        return None
    return value.file


def _upload(value) -> bytes | None:
    """An empty file part (no file chosen) is no upload; a chosen but empty file is one, and is refused."""
    if not isinstance(value, FileField) or not value.filename:
        return None
    return value.file.read()


def parse_form(form: MultiDictProxy, max_images: int, default_zone: str = "Europe/Berlin") -> ComposeForm:
    images = [ImageSlot(index=i, alt=_text(form, f"alt{i}").strip(), decorative=bool(form.get(f"decorative{i}")),
                        remove=bool(form.get(f"remove{i}")), media_id=int_param(_text(form, f"media{i}")),
                        upload=_upload(form.get(f"image{i}")))
              for i in range(max_images)]
    return ComposeForm(
        actor=_text(form, "actor"), text=_text(form, "text"), spoiler_text=_text(form, "spoiler_text").strip(),
        language=_text(form, "language"), publish_at=_text(form, "publish_at").strip(),
        mirrors=[m for m in form.getall("mirror", []) if isinstance(m, str)], images=images,
        poll_options=[_text(form, f"poll_option{i}").strip() for i in range(MAX_OPTIONS)],
        poll_duration=_text(form, "poll_duration").strip() or str(DEFAULT_POLL_DURATION),
        poll_multiple=bool(form.get("poll_multiple")), poll_hide_totals=bool(form.get("poll_hide_totals")),
        event=event_fields(form, default_zone), video=video_slot(form))


def video_slot(form: MultiDictProxy) -> VideoSlot:
    return VideoSlot(description=_text(form, "video_description").strip(), no_speech=bool(form.get("no_speech")),
                     remove=bool(form.get("remove_video")), media_id=int_param(_text(form, "video_media")),
                     upload=_file(form.get("video")), captions=_upload(form.get("captions")))


def parse_schedule(value: str, config: Config) -> datetime:
    """`datetime-local` carries no zone: it is the instance's local time, converted here to UTC."""
    local = datetime.fromisoformat(value)
    if local.tzinfo is not None:
        raise ValueError("zone given")
    try:
        return local.replace(tzinfo=config.tz).astimezone(timezone.utc)
    except OverflowError:  # beyond what a date can hold in UTC (year 1 or 9999): the nearest end, refused
        edge = datetime.min if local.year == datetime.min.year else datetime.max
        return edge.replace(tzinfo=timezone.utc)


def human_bytes(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} B"


def read_schedule(form: ComposeForm, config: Config, schedule: bool = True
                  ) -> tuple[list[Problem], datetime | None]:
    """The schedule in UTC, or the problem that it cannot be read; whether it is allowed is the post
    service's to say."""
    if not schedule or not form.publish_at:
        return [], None
    try:
        return [], parse_schedule(form.publish_at, config)
    except ValueError:
        return [Problem("publish_at", N_("Publish at: enter a date and a time."))], None


def problems_of(refusals: list[Refusal], form: ComposeForm) -> list[Problem]:
    """The post service's reasons, each next to its field of the form, worded for the editor."""
    return [_problem(r, form) for r in refusals]


def _problem(refusal: Refusal, form: ComposeForm) -> Problem:
    facts = dict(refusal.facts)
    name = FIELDS.get(refusal.field, "")
    if refusal.reason in VIDEO_FIELDS:
        return Problem(VIDEO_FIELDS[refusal.reason], REFUSALS[refusal.reason], {})
    if "position" in facts:  # the n-th image of the draft is the n-th slot in use
        slot = [s for s in form.images if s.used and s.media_id is not None][facts["position"]]
        name, facts["n"] = f"alt{slot.index}", slot.number
    return Problem(name, REFUSALS.get(refusal.reason, refusal.description), facts)


VIDEO_FIELDS = {PostReason.MISSING_CAPTIONS: "captions", PostReason.MISSING_VIDEO_DESCRIPTION: "video_description",
                PostReason.VIDEO_NOT_ALONE: "video", PostReason.VIDEO_PROCESSING: "video",
                PostReason.VIDEO_FAILED: "video"}


def video_problem(reason: VideoReason | None, config: Config) -> Problem:
    message = VIDEO_PROBLEMS.get(reason, VIDEO_PROBLEMS[VideoReason.NOT_A_VIDEO])
    return Problem("video", message, {"limit": human_bytes(config.limits.video_max_bytes),
                                      "seconds": config.limits.video_max_seconds})


def captions_problem(reason: CaptionReason | None, line: int) -> Problem:
    return Problem("captions", CAPTION_PROBLEMS.get(reason, CAPTION_PROBLEMS[CaptionReason.BAD_TIMING]),
                   {"line": line})


def image_problem(slot: ImageSlot, reason: MediaReason | None, config: Config) -> Problem:
    limits = config.limits
    limit = {MediaReason.TOO_LARGE: human_bytes(limits.max_image_bytes),
             MediaReason.TOO_MANY_PIXELS: f"{limits.max_image_pixels:,}".replace(",", " ")}.get(reason, "")
    message = IMAGE_PROBLEMS.get(reason, IMAGE_PROBLEMS[MediaReason.BROKEN_IMAGE])
    return Problem(f"image{slot.index}", message, {"n": slot.number, "limit": limit})
