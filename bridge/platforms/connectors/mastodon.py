"""An existing account on a Mastodon-API server (`api_base`: the server, credential `access_token`).
Posts carry an `Idempotency-Key` stable per (post, platform): the server answers a repeat within an hour
with the original status, which is how an unknown outcome is reconciled. Limits come from the server's
`/api/v2/instance` configuration when known."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from bridge.platforms.connectors.base import (
    AnswerTarget,
    Capabilities,
    Connector,
    Idempotency,
    LinkCards,
    Metrics,
    PollView,
    Outcome,
    PostView,
    Reason,
    Remote,
    Rendered,
    ReplyBatch,
    Result,
    TextUnit,
    VideoView,
    metrics_of,
    poll_votes,
)
from bridge.platforms.connectors.counting import characters
from bridge.platforms.connectors.http import Answer, call, file_size, form, retry_after, short, transport_result
from bridge.platforms.connectors.images import fitted_file
from bridge.platforms.connectors.render import fit_text
from bridge.platforms.connectors.mastodon_replies import context_replies
from bridge.platforms.connectors.videos import POLL_DELAYS, choose_video, upload_seconds, wait_for

KEY_LIFETIME = timedelta(minutes=55)  # Mastodon keeps an Idempotency-Key for 1 h; stay clear of the edge
VIDEO_BYTES = 103_809_024  # Mastodon's default video_size_limit (99 MB) when the server does not say


MASTODON_METRICS = {"favourites_count": "likes", "reblogs_count": "reposts",
                    "replies_count": "replies", "quotes_count": "quotes"}


def classify(answer: Answer, now, *, write: bool) -> Result | None:
    if answer.status == 429:
        return Result(Outcome.RATE_LIMITED, Reason.RATE_LIMITED, "HTTP 429", retry_at=_reset(answer, now))
    common = transport_result(answer, write=write)
    if common is not None:
        return common
    if 200 <= answer.status < 300:
        return None
    message = short(answer.data.get("error")) if isinstance(answer.data, dict) else f"HTTP {answer.status}"
    if answer.status in (401, 403):
        return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, message)
    if answer.status == 404:
        return Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, message)
    return Result(Outcome.REJECTED, Reason.REJECTED, message)


def _reset(answer: Answer, now):
    """`X-RateLimit-Reset` is an ISO timestamp on Mastodon; `Retry-After` where a proxy sets one."""
    value = answer.headers.get("X-RateLimit-Reset")
    if value:
        try:
            from_iso = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if from_iso > now:
                return from_iso
        except ValueError:
            pass
    return retry_after(answer.headers, now)


class MastodonConnector(Connector):
    kind = "mastodon"
    video_polls: tuple[float, ...] = POLL_DELAYS  # the waits while the server processes a video (tests shorten them)

    def capabilities(self) -> Capabilities:
        limits = self.account.limits
        return Capabilities(text_limit=int(limits.get("max_characters", 500)), text_unit=TextUnit.CHARACTERS,
                            url_weight=int(limits.get("characters_reserved_per_url", 23)),
                            max_images=int(limits.get("max_media_attachments", 4)),
                            image_max_bytes=int(limits.get("image_size_limit", 16_777_216)), image_max_side=4096,
                            alt_limit=int(limits.get("description_limit", 1500)), link_cards=LinkCards.SERVER,
                            idempotency=Idempotency.KEY, content_warning=True,
                            video=bool(limits.get("mp4_video", True)),
                            video_max_bytes=int(limits.get("video_size_limit", VIDEO_BYTES)))

    def _headers(self, **extra) -> dict:
        return {"Authorization": f"Bearer {self.secret('access_token', '')}", **extra}

    def _url(self, path: str) -> str:
        return f"{self.platform.api_base.rstrip('/')}{path}"

    def render(self, post: PostView) -> Rendered:
        caps = self.capabilities()
        budget = caps.text_limit - len(post.spoiler_text)  # Mastodon counts the warning against the limit

        def count(text: str) -> int:
            return characters(text, caps.url_weight)

        text, shortened = fit_text(post.text, post.permalink, count, budget)
        notes = ["Shortened to fit; it links to the full post."] if shortened else []
        extra = {"spoiler_text": post.spoiler_text, "language": post.language}
        choice = choose_video(post, caps, alone=True)  # a status has one video or images, never both
        images = choice.images[:caps.max_images]
        if choice.video is not None:
            extra["video"] = choice.video
        notes += choice.notes
        if post.poll is not None:
            extra["poll"] = self._poll(post.poll, bool(post.images))
            notes.append("Mastodon gets its own poll; its votes are counted there and shown apart from ours."
                         if extra["poll"] else "The poll goes as a link: it does not fit this server's poll limits "
                         "or the post has images.")
        return Rendered(text, count(text) + len(post.spoiler_text), caps.text_limit, TextUnit.CHARACTERS, shortened,
                        images, None, tuple(notes), extra)

    def _poll(self, poll: PollView, with_images: bool) -> dict | None:
        """`poll[...]` of POST /api/v1/statuses within the server's announced limits; a status cannot have
        both images and a poll, so then the link alone."""
        limits = self.account.limits
        fits = (not with_images and 2 <= len(poll.options) <= int(limits.get("poll_max_options", 4))
                and all(len(o) <= int(limits.get("poll_max_characters_per_option", 50)) for o in poll.options)
                and int(limits.get("poll_min_expiration", 300)) <= poll.expires_in
                <= int(limits.get("poll_max_expiration", 2629746)))
        return {"options": list(poll.options), "expires_in": poll.expires_in, "multiple": poll.multiple,
                "hide_totals": poll.hide_totals} if fits else None

    async def publish(self, rendered: Rendered, handle: str) -> Result:
        media_ids = []
        if rendered.extra.get("video") is not None:
            uploaded = await self._upload_video(rendered.extra["video"])
            if isinstance(uploaded, Result):
                return uploaded
            media_ids.append(uploaded)
        for image in rendered.images:
            uploaded = await self._upload(image)
            if isinstance(uploaded, Result):
                return uploaded
            media_ids.append(uploaded)
        return await self._post(rendered, handle, media_ids)

    async def _post(self, rendered: Rendered, handle: str, media_ids: list[str]) -> Result:
        body = {"status": rendered.text, "visibility": "public", "language": rendered.extra["language"],
                "media_ids": media_ids}
        if rendered.extra["spoiler_text"]:
            body["spoiler_text"] = rendered.extra["spoiler_text"]
        if rendered.extra.get("poll") and not media_ids:
            body["poll"] = rendered.extra["poll"]
        answer = await call(self.http, "POST", self._url("/api/v1/statuses"), json_body=body,
                            headers=self._headers(**{"Idempotency-Key": handle}))
        return self._status(answer, write=True)

    def _status(self, answer: Answer, *, write: bool) -> Result:
        failure = classify(answer, self.clock(), write=write)
        if failure is not None:
            return failure
        data = answer.data if isinstance(answer.data, dict) else {}
        if not data.get("id"):
            return Result(Outcome.UNKNOWN if write else Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no status id")
        return Result(Outcome.SENT, remote=Remote(str(data["id"]), data.get("url"), {"uri": data.get("uri")}))

    async def _upload(self, image) -> str | Result:
        caps = self.capabilities()
        fitted = await fitted_file(image.path, caps.image_max_bytes, caps.image_max_side)
        if fitted is None:
            return Result(Outcome.REJECTED, Reason.IMAGE_UNUSABLE, image.path.rsplit("/", 1)[-1])
        extension = "png" if fitted.mime_type == "image/png" else "jpg"
        body = form({"description": image.alt[:caps.alt_limit or 1500]},
                    {"file": (f"image.{extension}", fitted.mime_type, fitted.data)})
        answer = await call(self.http, "POST", self._url("/api/v2/media"), body=body, headers=self._headers())
        failure = classify(answer, self.clock(), write=False)  # an unattached upload creates no post
        media_id = answer.data.get("id") if failure is None and isinstance(answer.data, dict) else None
        return str(media_id) if media_id else (failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE))

    async def _upload_video(self, video: VideoView) -> str | Result:
        """`POST /api/v2/media` with the description and the poster frame as its thumbnail; a video is processed
        after the answer (202), and a status can only take it once `GET /api/v1/media/:id` says 200."""
        caps = self.capabilities()
        size = file_size(video.path)
        if size is None:
            return Result(Outcome.REJECTED, Reason.VIDEO_UNUSABLE, video.path.rsplit("/", 1)[-1])
        files: dict[str, tuple[str, str, bytes | str]] = {"file": ("video.mp4", video.mime_type, video.path)}
        thumbnail = await fitted_file(video.poster_path, caps.image_max_bytes, caps.image_max_side)
        if thumbnail is not None:
            files["thumbnail"] = ("poster.jpg" if thumbnail.mime_type == "image/jpeg" else "poster.png",
                                  thumbnail.mime_type, thumbnail.data)
        body = form({"description": video.description[:caps.alt_limit or 1500]}, files)  # the video streamed
        answer = await call(self.http, "POST", self._url("/api/v2/media"), body=body, headers=self._headers(),
                            timeout=upload_seconds(self.http, size))
        failure = classify(answer, self.clock(), write=False)  # an unattached upload creates no post
        media_id = answer.data.get("id") if failure is None and isinstance(answer.data, dict) else None
        if not media_id:
            return failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no media id")
        if answer.status == 200 and answer.data.get("url"):
            return str(media_id)
        processed = await wait_for(lambda: self._processed(str(media_id)), self.video_polls)
        if processed is None:  # no status was created: trying again later is safe
            return Result(Outcome.UNAVAILABLE, Reason.VIDEO_PROCESSING, f"media {media_id}",
                          retry_at=self.clock() + timedelta(minutes=2))
        return processed

    async def _processed(self, media_id: str) -> str | Result | None:
        """The media id once processed (200), None while processing (206), or why it cannot be had."""
        answer = await call(self.http, "GET", self._url(f"/api/v1/media/{media_id}"), headers=self._headers())
        failure = classify(answer, self.clock(), write=False)
        if failure is not None:
            return Result(Outcome.REJECTED, Reason.VIDEO_UNUSABLE, failure.detail) \
                if failure.outcome in (Outcome.REJECTED, Outcome.NOT_FOUND) else failure
        return media_id if answer.status == 200 else None

    def answer_length(self, text: str) -> int:
        return characters(text, self.capabilities().url_weight)

    async def answer(self, target: AnswerTarget, rendered: Rendered, handle: str) -> Result:
        """A public status with `in_reply_to_id`: the citizen's status as our server knows it (found by its
        URI through search with resolve), sent with the answer's own Idempotency-Key."""
        local = await self._local_status(target.reply_id)
        if isinstance(local, Result):
            return local
        status_id, acct = local
        # Mastodon notifies only whom a status mentions: the author is named first, as its own apps do.
        text = rendered.text if not acct or f"@{acct}".lower() in rendered.text.lower() else f"@{acct} {rendered.text}"
        body = {"status": text, "visibility": "public", "language": rendered.extra["language"],
                "in_reply_to_id": status_id}
        answer = await call(self.http, "POST", self._url("/api/v1/statuses"), json_body=body,
                            headers=self._headers(**{"Idempotency-Key": handle}))
        return self._status(answer, write=True)

    async def _local_status(self, uri: str) -> tuple[str, str] | Result:
        """The status's id on our server and its author's address as our server writes it (`acct`)."""
        query = urlencode({"q": uri, "type": "statuses", "resolve": "true", "limit": 1})
        answer = await call(self.http, "GET", self._url(f"/api/v2/search?{query}"), headers=self._headers())
        failure = classify(answer, self.clock(), write=False)
        if failure is not None:
            return failure
        found = answer.data.get("statuses") if isinstance(answer.data, dict) else None
        if not isinstance(found, list) or not found or not isinstance(found[0], dict) or not found[0].get("id"):
            return Result(Outcome.REJECTED, Reason.REPLY_GONE, "the reply was not found")
        account = found[0].get("account") if isinstance(found[0].get("account"), dict) else {}
        return str(found[0]["id"]), str(account.get("acct") or "")

    async def reconcile_answer(self, target: AnswerTarget, rendered: Rendered, handle: str, since) -> Result:
        """As for posts: the same request with the same key within its lifetime makes exactly one status."""
        if since is not None and self.clock() - since > KEY_LIFETIME:
            return Result(Outcome.UNKNOWN, Reason.UNDECIDABLE, "the idempotency key has expired")
        return await self.answer(target, rendered, handle)

    async def reconcile(self, handle: str, rendered: Rendered, since) -> Result:
        """Within the key's lifetime the same request (images uploaded again) returns the original status if
        the first one arrived, and creates it properly if it did not: either way exactly one post."""
        if since is not None and self.clock() - since > KEY_LIFETIME:
            return Result(Outcome.UNKNOWN, Reason.UNDECIDABLE, "the idempotency key has expired")
        return await self.publish(rendered, handle)

    async def edit(self, remote: Remote, rendered: Rendered) -> Result:
        body = {"status": rendered.text, "language": rendered.extra["language"],
                "spoiler_text": rendered.extra["spoiler_text"]}
        answer = await call(self.http, "PUT", self._url(f"/api/v1/statuses/{remote.id}"), json_body=body,
                            headers=self._headers())
        return self._status(answer, write=True)

    async def delete(self, remote: Remote) -> Result:
        answer = await call(self.http, "DELETE", self._url(f"/api/v1/statuses/{remote.id}"), headers=self._headers())
        failure = classify(answer, self.clock(), write=True)
        return failure or Result(Outcome.SENT)

    async def fetch_replies(self, remote: Remote) -> ReplyBatch:
        answer = await call(self.http, "GET", self._url(f"/api/v1/statuses/{remote.id}/context"),
                            headers=self._headers())
        failure = classify(answer, self.clock(), write=False)
        if failure is not None or not isinstance(answer.data, dict):
            return ReplyBatch(failure or Result(Outcome.UNAVAILABLE, Reason.REPLIES_UNAVAILABLE))
        replies, skipped = context_replies(answer.data)
        # Remote replies still being fetched by the server: absent is not the same as deleted yet.
        complete = "Mastodon-Async-Refresh" not in answer.headers
        return ReplyBatch(Result(Outcome.SENT), tuple(replies), (), complete, skipped)

    async def fetch_metrics(self, remote: Remote) -> Metrics:
        """The status's own counters (`GET /api/v1/statuses/:id`), as its server knows them."""
        answer = await call(self.http, "GET", self._url(f"/api/v1/statuses/{remote.id}"), headers=self._headers())
        poll = answer.data.get("poll") if isinstance(answer.data, dict) else None
        votes = poll_votes(poll.get("options"), "votes_count") if isinstance(poll, dict) else None
        # `voters_count` is null for single choice (each voter one vote), a number for multiple choice
        voters = poll.get("voters_count") if isinstance(poll, dict) else None
        voters = voters if isinstance(voters, int) and not isinstance(voters, bool) else \
            (sum(votes) if votes is not None and not poll.get("multiple") else None)
        return metrics_of(classify(answer, self.clock(), write=False), answer.data, MASTODON_METRICS, votes, voters)

    async def check_credentials(self) -> Result:
        answer = await call(self.http, "GET", self._url("/api/v1/accounts/verify_credentials"), headers=self._headers())
        failure = classify(answer, self.clock(), write=False)
        if failure is not None:
            return failure
        instance = await call(self.http, "GET", self._url("/api/v2/instance"))
        if instance.ok and isinstance(instance.data, dict):
            self.account.limits = instance_limits(instance.data)
        return Result(Outcome.SENT)


def instance_limits(instance: dict) -> dict:
    config = instance.get("configuration") if isinstance(instance.get("configuration"), dict) else {}
    statuses, media = config.get("statuses") or {}, config.get("media_attachments") or {}
    polls = config.get("polls") or {}
    found = {"max_characters": statuses.get("max_characters"),
             "characters_reserved_per_url": statuses.get("characters_reserved_per_url"),
             "max_media_attachments": statuses.get("max_media_attachments"),
             "image_size_limit": media.get("image_size_limit"), "description_limit": media.get("description_limit"),
             "video_size_limit": media.get("video_size_limit"),
             "poll_max_options": polls.get("max_options"),
             "poll_max_characters_per_option": polls.get("max_characters_per_option"),
             "poll_min_expiration": polls.get("min_expiration"), "poll_max_expiration": polls.get("max_expiration")}
    limits = {k: int(v) for k, v in found.items() if isinstance(v, int) and not isinstance(v, bool) and v > 0}
    if isinstance(media.get("supported_mime_types"), list):  # a server without MP4 gets the poster and the link
        limits["mp4_video"] = "video/mp4" in media["supported_mime_types"]
    return limits
