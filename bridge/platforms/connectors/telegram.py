"""A Telegram channel through a bot that is the channel's admin (credentials `bot_token`, `chat_id`
like "@stadt" or -100…; optional `discussion_chat_id` of the linked discussion group for comments).

Telegram has no idempotency and no way to list a channel's history: after an unknown outcome nobody can
tell whether the message exists, so it is never retried blindly — the editor decides. The bot token is
part of every URL, so URLs are never logged or shown."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import aiohttp

from bridge.platforms.connectors.base import (
    AnswerTarget,
    Capabilities,
    Connector,
    ImageView,
    LinkCards,
    Metrics,
    Outcome,
    PostView,
    Reason,
    Remote,
    Rendered,
    ReplyBatch,
    Result,
    TextUnit,
    VideoView,
)
from bridge.platforms.connectors.counting import utf16_units
from bridge.platforms.connectors.http import Answer, call, file_size, form, short, transport_result
from bridge.platforms.connectors.images import fit_image, read_file
from bridge.platforms.connectors.render import fit_text, telegram_html, with_warning
from bridge.platforms.connectors.telegram_polls import kept_counts, poll_counts, poll_request, remember_counts
from bridge.platforms.connectors.telegram_updates import updates_to_replies
from bridge.platforms.connectors.videos import choose_video, upload_seconds

DELETE_WINDOW = timedelta(hours=48)
PHOTO_BYTES = 10_000_000
NOT_MODIFIED = "message is not modified"
VIDEO_BYTES = 50_000_000  # what a bot may upload (Bot API: "up to 50 MB")
THUMBNAIL_BYTES, THUMBNAIL_SIDE = 200_000, 320  # Bot API: a JPEG under 200 kB, at most 320 px each way
NO_VIDEO_TEXT = ("Telegram videos have no description or captions: both are on the city's page, which the post "
                 "links to.")


def classify(answer: Answer, now: datetime, *, write: bool) -> Result | None:
    data = answer.data if isinstance(answer.data, dict) else {}
    if answer.status == 429 or data.get("error_code") == 429:
        seconds = (data.get("parameters") or {}).get("retry_after")
        wait = timedelta(seconds=int(seconds)) if isinstance(seconds, int) else timedelta(seconds=30)
        return Result(Outcome.RATE_LIMITED, Reason.RATE_LIMITED, "Too Many Requests", retry_at=now + wait)
    common = transport_result(answer, write=write)
    if common is not None:
        return common
    if answer.status == 200 and data.get("ok") is True:
        return None
    description = short(data.get("description")) or f"HTTP {answer.status}"
    if answer.status in (401, 403) or data.get("error_code") in (401, 403):
        return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, description)
    if answer.status == 200:  # 200 without ok=true is not an answer we understand
        return Result(Outcome.UNKNOWN if write else Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "ok missing")
    return Result(Outcome.REJECTED, Reason.REJECTED, description)


class TelegramConnector(Connector):
    kind = "telegram"
    _read: list | None = None  # the updates fetch_metrics read and fetch_replies has not yet taken

    def capabilities(self) -> Capabilities:
        return Capabilities(text_limit=4096, text_unit=TextUnit.UTF16, caption_limit=1024, max_images=10,
                            image_max_bytes=PHOTO_BYTES, image_max_side=2560, alt_text=False,
                            link_cards=LinkCards.SERVER, delete_window=DELETE_WINDOW,
                            replies_readable=bool(self.secret("discussion_chat_id")),
                            video=True, video_max_bytes=VIDEO_BYTES)

    def _url(self, method: str) -> str:
        return f"{self.platform.api_base.rstrip('/')}/bot{self.secret('bot_token', '')}/{method}"

    async def _call(self, method: str, *, write: bool, json_body=None, body=None, timeout=None):
        answer = await call(self.http, "POST", self._url(method), json_body=json_body, body=body, timeout=timeout)
        return answer, classify(answer, self.clock(), write=write)

    def render(self, post: PostView) -> Rendered:
        choice = choose_video(post, self.capabilities())
        images = choice.images[:9 if choice.video else 10]  # a media group holds ten items
        limit = 1024 if images or choice.video else 4096
        plain, shortened = fit_text(with_warning(post), post.permalink, utf16_units, limit)
        notes = list(choice.notes)
        if images:
            notes.append("Telegram photos have no alt text: the image descriptions are not sent.")
        if choice.video is not None:
            notes.append(NO_VIDEO_TEXT)
        if images:
            notes.append("With images the text is a caption of at most 1024 characters.")
        elif choice.video is not None:
            notes.append("With a video the text is a caption of at most 1024 characters.")
        if shortened:
            notes.append("Shortened to fit; it links to the full post.")
        notes.append("Telegram lets bots delete messages only within 48 hours.")
        extra = {"plain": plain, **({"video": choice.video} if choice.video else {}), **self._render_poll(post, notes)}
        return Rendered(telegram_html(plain), utf16_units(plain), limit, TextUnit.UTF16, shortened,
                        images, None, tuple(notes), extra)

    def _render_poll(self, post: PostView, notes: list[str]) -> dict:
        """A native poll goes after the message (the message keeps its text and link to the page)."""
        if post.poll is None:
            return {}
        request = poll_request(post.poll, post.text)
        notes.append("Telegram gets its own anonymous poll after the message; its votes are counted there and "
                     "shown apart from ours." if request else "The poll goes as a link: Telegram polls have 2 to "
                     "10 options of at most 100 characters.")
        return {"poll": request}

    async def publish(self, rendered: Rendered, handle: str) -> Result:
        chat = self.secret("chat_id", "")
        if rendered.extra.get("video") is not None:
            return await self._publish_video(rendered, chat, rendered.extra["video"])
        if not rendered.images:
            answer, failure = await self._call("sendMessage", write=True, json_body={
                "chat_id": chat, "text": rendered.text, "parse_mode": "HTML"})
            return failure or await self._with_poll(self._sent(answer, caption=False), rendered)
        photos = await asyncio.to_thread(_photos, rendered.images)  # reading and re-encoding: off the loop
        if isinstance(photos, Result):
            return photos
        body = _photo_body(chat, rendered.text, photos)
        method = "sendPhoto" if len(photos) == 1 else "sendMediaGroup"
        answer, failure = await self._call(method, write=True, body=body)
        return failure or await self._with_poll(self._sent(answer, caption=True), rendered)

    async def _with_poll(self, sent: Result, rendered: Rendered) -> Result:
        """`sendPoll` as a reply to the sent message. The message is out either way: a poll that fails stays
        a note on the send (`poll_failed`), never a second send of the message."""
        if sent.outcome is not Outcome.SENT or sent.remote is None or not rendered.extra.get("poll"):
            return sent
        chat = sent.remote.extra["chat_id"]
        answer, failure = await self._call("sendPoll", write=True, json_body={
            "chat_id": chat, **rendered.extra["poll"],
            "reply_parameters": {"message_id": int(sent.remote.id), "allow_sending_without_reply": True}})
        result = answer.data.get("result") if failure is None and isinstance(answer.data, dict) else None
        found = poll_counts(result.get("poll")) if isinstance(result, dict) else None
        extra = dict(sent.remote.extra)
        if found is None or not result.get("message_id"):
            extra["poll_failed"] = str(failure.reason) if failure else "malformed_response"
        else:
            extra.update(poll_message_id=result["message_id"], poll_id=found[0],
                         message_ids=[*extra["message_ids"], result["message_id"]])
        return Result(Outcome.SENT, remote=Remote(sent.remote.id, sent.remote.url, extra))

    async def _publish_video(self, rendered: Rendered, chat: str, video: VideoView) -> Result:
        """`sendVideo` (streamable, with its size, length and the poster frame as thumbnail); with images a
        `sendMediaGroup` whose first item is the video (InputMediaVideo) and carries the caption."""
        size = file_size(video.path)
        if size is None:
            return Result(Outcome.REJECTED, Reason.VIDEO_UNUSABLE, video.path.rsplit("/", 1)[-1])
        photos = await asyncio.to_thread(_photos, rendered.images)
        if isinstance(photos, Result):
            return photos
        body = _video_body(chat, rendered.text, video, await asyncio.to_thread(_thumbnail, video), photos)
        method = "sendMediaGroup" if photos else "sendVideo"
        answer, failure = await self._call(method, write=True, body=body,
                                           timeout=upload_seconds(self.http, size + sum(len(p.data) for p in photos)))
        return failure or await self._with_poll(self._sent(answer, caption=True), rendered)

    def _sent(self, answer: Answer, *, caption: bool) -> Result:
        result = answer.data.get("result")
        messages = result if isinstance(result, list) else [result]
        ids = [m.get("message_id") for m in messages if isinstance(m, dict) and m.get("message_id")]
        if not ids:
            return Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no message id")
        chat = str(self.secret("chat_id", ""))
        url = f"https://t.me/{chat[1:]}/{ids[0]}" if chat.startswith("@") else None
        extra = {"chat_id": chat, "message_ids": ids, "caption": caption, "sent_at": self.clock().isoformat()}
        return Result(Outcome.SENT, remote=Remote(str(ids[0]), url, extra))

    async def reconcile(self, handle: str, rendered: Rendered, since) -> Result:
        return Result(Outcome.UNKNOWN, Reason.UNDECIDABLE, "Telegram cannot be asked whether a message exists")

    async def edit(self, remote: Remote, rendered: Rendered) -> Result:
        target = {"chat_id": remote.extra.get("chat_id") or self.secret("chat_id", ""), "message_id": int(remote.id),
                  "parse_mode": "HTML"}
        if remote.extra.get("caption"):
            answer, failure = await self._call("editMessageCaption", write=True,
                                               json_body={**target, "caption": rendered.text})
        else:
            answer, failure = await self._call("editMessageText", write=True, json_body={**target, "text": rendered.text})
        if failure is not None and NOT_MODIFIED in failure.detail:
            return Result(Outcome.SENT)  # the same text again: already as wanted
        return failure or Result(Outcome.SENT)

    async def delete(self, remote: Remote) -> Result:
        sent_at = _when(remote.extra.get("sent_at"))
        if sent_at is not None and self.clock() - sent_at >= DELETE_WINDOW:
            return Result(Outcome.MANUAL, Reason.DELETE_TOO_LATE, "older than 48 hours")
        chat = remote.extra.get("chat_id") or self.secret("chat_id", "")
        for message_id in remote.extra.get("message_ids") or [int(remote.id)]:
            answer, failure = await self._call("deleteMessage", write=True,
                                               json_body={"chat_id": chat, "message_id": int(message_id)})
            if failure is not None and "not found" in failure.detail:
                continue
            if failure is not None and "can't be deleted" in failure.detail:
                return Result(Outcome.MANUAL, Reason.DELETE_TOO_LATE, failure.detail)
            if failure is not None:
                return failure
        return Result(Outcome.SENT)

    async def fetch_replies(self, remote: Remote) -> ReplyBatch:
        """Comments live in the linked discussion group and reach a bot only as live updates (kept ~24 h by
        Telegram): one poll collects them for every post; there is no history and no deletion signal."""
        group = self.secret("discussion_chat_id")
        if not group:
            return ReplyBatch(Result(Outcome.UNSUPPORTED, Reason.REPLIES_UNAVAILABLE, "no discussion group"))
        offset = int(self.account.cursor) if (self.account.cursor or "").isdigit() else 0
        updates, self._read = (self._read, None) if self._read is not None else (await self._updates(), None)
        if isinstance(updates, Result):
            return ReplyBatch(updates)
        replies, skipped, _ = updates_to_replies(updates, str(group))
        return ReplyBatch(Result(Outcome.SENT), tuple(replies), (), False, skipped)

    async def _updates(self) -> list | Result:
        """Comments in the discussion group and `poll` updates, whose counts are kept in the account state, as
        confirming drops them at Telegram."""
        offset = int(self.account.cursor) if (self.account.cursor or "").isdigit() else 0
        answer, failure = await self._call("getUpdates", write=False, json_body={
            "offset": offset, "timeout": 0, "allowed_updates": ["message", "edited_message", "poll"]})
        if failure is not None:
            return failure
        updates = answer.data.get("result") if isinstance(answer.data.get("result"), list) else []
        remember_counts(self.account.limits, updates)
        next_offset = max((int(u.get("update_id") or 0) + 1 for u in updates if isinstance(u, dict)), default=0)
        if next_offset:
            self.account.cursor = str(max(next_offset, offset))
        return updates

    async def fetch_metrics(self, remote: Remote) -> Metrics:
        """The Bot API gives no views or reactions counts for channel posts; only the votes of our own poll,
        from the latest `poll` update (or stopPoll's answer) kept in the account state."""
        if not remote.extra.get("poll_id"):
            return Metrics(Result(Outcome.UNSUPPORTED, Reason.METRICS_UNAVAILABLE, "no Telegram poll"))
        updates = await self._updates()
        if isinstance(updates, Result):
            return Metrics(updates)
        self._read = updates  # backfeed asks for replies next: they are in this read, confirmed already
        kept = kept_counts(self.account.limits, str(remote.extra["poll_id"]))
        if kept is None:  # no vote changed since: the last figure stays with its date
            return Metrics(Result(Outcome.UNAVAILABLE, Reason.METRICS_UNAVAILABLE, "no new poll counts"))
        return Metrics(Result(Outcome.SENT), {}, kept[0], kept[1])

    async def close_poll(self, remote: Remote) -> Metrics:
        """`stopPoll` on the poll message; its answer is the final Poll with the counts. A poll Telegram
        already closed (its open period ran out) is read as closed."""
        message_id = remote.extra.get("poll_message_id")
        if not message_id:
            return await super().close_poll(remote)
        answer, failure = await self._call("stopPoll", write=True, json_body={
            "chat_id": remote.extra.get("chat_id") or self.secret("chat_id", ""), "message_id": int(message_id)})
        if failure is not None and "already been closed" in failure.detail:
            return Metrics(Result(Outcome.SENT))
        found = poll_counts(answer.data.get("result")) if failure is None else None
        if failure is None and found is None:
            failure = Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no poll in the answer")
        if failure is not None:
            return Metrics(failure)
        return Metrics(Result(Outcome.SENT), {}, found[1], found[2])

    async def check_credentials(self) -> Result:
        answer, failure = await self._call("getMe", write=False)
        return failure or Result(Outcome.SENT)

    def answer_length(self, text: str) -> int:
        return utf16_units(text)

    def render_answer(self, text: str, language: str) -> Rendered:
        return Rendered(telegram_html(text), utf16_units(text), 4096, TextUnit.UTF16, extra={"plain": text})

    async def answer(self, target: AnswerTarget, rendered: Rendered, handle: str) -> Result:
        """A message in the discussion group that replies to the citizen's comment (`reply_parameters`), so it
        appears in the channel post's comment thread. Telegram has no idempotency: an unknown outcome goes
        to the editor."""
        _, group, message_id = (target.reply_id.split(":", 2) + ["", ""])[:3]
        if not group or not message_id.lstrip("-").isdigit():
            return Result(Outcome.REJECTED, Reason.REPLY_GONE, "not a Telegram comment")
        answer, failure = await self._call("sendMessage", write=True, json_body={
            "chat_id": group, "text": rendered.text, "parse_mode": "HTML",
            "reply_parameters": {"message_id": int(message_id), "allow_sending_without_reply": False}})
        if failure is not None:
            return failure
        result = answer.data.get("result") if isinstance(answer.data, dict) else None
        sent = result.get("message_id") if isinstance(result, dict) else None
        if not sent:
            return Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no message id")
        return Result(Outcome.SENT, remote=Remote(str(sent), None, {"chat_id": group}))


def _photo(image: ImageView):
    raw = read_file(image.path)
    return fit_image(raw, PHOTO_BYTES, 2560, ("image/jpeg",)) if raw else None


def _photos(images) -> list | Result:
    photos = []
    for image in images:
        fitted = _photo(image)
        if fitted is None:
            return Result(Outcome.REJECTED, Reason.IMAGE_UNUSABLE, image.path.rsplit("/", 1)[-1])
        photos.append(fitted)
    return photos


def _photo_body(chat: str, caption: str, photos) -> aiohttp.FormData:
    files = {f"p{i}": (f"p{i}.jpg", "image/jpeg", p.data) for i, p in enumerate(photos)}
    if len(photos) == 1:
        return form({"chat_id": chat, "caption": caption, "parse_mode": "HTML"}, {"photo": files["p0"]})
    media = [{"type": "photo", "media": f"attach://p{i}", **({"caption": caption, "parse_mode": "HTML"} if i == 0 else {})}
             for i in range(len(photos))]
    return form({"chat_id": chat, "media": json.dumps(media)}, files)


def _thumbnail(video: VideoView):
    raw = read_file(video.poster_path) if video.poster_path else None
    return fit_image(raw, THUMBNAIL_BYTES, THUMBNAIL_SIDE, ("image/jpeg",)) if raw else None


def _video_body(chat: str, caption: str, video: VideoView, thumbnail, photos) -> aiohttp.FormData:
    """The form with the video streamed from its file."""
    shape = {"width": video.width, "height": video.height, "duration": max(1, round(video.duration_ms / 1000)),
             "supports_streaming": True}
    files: dict[str, tuple[str, str, bytes | str]] = {"video": ("video.mp4", video.mime_type, video.path)}
    if thumbnail is not None:  # a thumbnail can only be a new upload, named by attach://
        files["poster"] = ("poster.jpg", "image/jpeg", thumbnail.data)
        shape["thumbnail"] = "attach://poster"
    if not photos:
        fields = {k: json.dumps(v) if isinstance(v, bool) else str(v) for k, v in shape.items()}
        return form({"chat_id": chat, "caption": caption, "parse_mode": "HTML", **fields}, files)
    files.update({f"p{i}": (f"p{i}.jpg", "image/jpeg", p.data) for i, p in enumerate(photos)})
    media = [{"type": "video", "media": "attach://video", "caption": caption, "parse_mode": "HTML", **shape}]
    media += [{"type": "photo", "media": f"attach://p{i}"} for i in range(len(photos))]
    return form({"chat_id": chat, "media": json.dumps(media)}, files)


def _when(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
