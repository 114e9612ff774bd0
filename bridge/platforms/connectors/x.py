"""X through API v2: `api_base` https://api.x.com, credentials `client_id` (+ `client_secret` for a
confidential client), `access_token`, `refresh_token` (OAuth 2.0 user context, see `x_api`), optional
`read_replies = true` when the account's plan pays for reading posts.

280 weighted characters, counted by `twitter-text-parser` (the Python port of twitter-text, config v3:
every URL 23, CJK and emoji 2, Latin-1 including umlauts 1, NFC). Images are uploaded first
(`POST /2/media/upload`), alt text set with `POST /2/media/metadata`. A video goes alone (X does not
mix it with images) through the chunked upload, with its captions as subtitles (`x_video`). X cannot edit
through the API and gives no idempotency handle: an unknown outcome goes to the editor. Replies are read
with recent search (`conversation_id:`), which reaches back 7 days and is billed per post — off unless the
admin says so.
"""

from __future__ import annotations

import functools
import importlib

from bridge.platforms.connectors.base import (
    AnswerTarget,
    Capabilities,
    Connector,
    ImageView,
    LinkCards,
    Metrics,
    PollView,
    Outcome,
    PlatformReply,
    PostView,
    Reason,
    Remote,
    Rendered,
    ReplyBatch,
    Result,
    TextUnit,
    metrics_of,
    poll_votes,
)
from bridge.platforms.connectors.http import form
from bridge.platforms.connectors.images import fitted_file
from bridge.platforms.connectors.meta_media import forget, has_opt_out, remember, remembered
from bridge.platforms.connectors.render import fit_text, with_warning
from bridge.platforms.connectors.tokens import when
from bridge.platforms.connectors.videos import choose_video
from bridge.platforms.connectors.x_api import XAuth, classify
from bridge.platforms.connectors.x_video import upload_video

TEXT_LIMIT = 280
X_METRICS = {"like_count": "likes", "retweet_count": "reposts", "reply_count": "replies",
             "quote_count": "quotes", "impression_count": "views"}
IMAGE_BYTES = 5_000_000
VIDEO_BYTES = 512_000_000  # tweet_video: 512 MB and 140 seconds (docs.x.com, media best practices)
VIDEO_SECONDS = 140
ALT_LIMIT = 1000
NO_EDIT = "X cannot edit posts through its API: later edits on the city's site do not reach X."


@functools.cache
def _tweet_parser():
    # twitter-text compiles its URL and emoji tables when imported (most of a second): that is paid by the
    # first post measured for X, not by every start of `stadtbote` (a name, not an import: no cycle possible).
    return importlib.import_module("twitter_text").parse_tweet


def x_length(text: str) -> int:
    return _tweet_parser()(text).weightedLength


class XConnector(Connector):
    kind = "x"
    video_waits = (1.0, 2.0, 4.0, 8.0, 15.0)  # seconds between STATUS checks while X processes a video
    chunk_bytes = 4 * 1024 * 1024

    def capabilities(self) -> Capabilities:
        return Capabilities(text_limit=TEXT_LIMIT, text_unit=TextUnit.WEIGHTED, url_weight=23, max_images=4,
                            image_max_bytes=IMAGE_BYTES, image_max_side=4096,
                            image_formats=("image/jpeg", "image/png", "image/webp"), alt_limit=ALT_LIMIT,
                            link_cards=LinkCards.SERVER, can_edit=False, replies_readable=self.reads_replies,
                            video=True, video_max_bytes=VIDEO_BYTES, video_max_seconds=VIDEO_SECONDS,
                            video_captions=True)

    @property
    def reads_replies(self) -> bool:
        return self.platform.credentials.get("read_replies") is True

    @functools.cached_property
    def auth(self) -> XAuth:
        return XAuth(self.http, self.platform.api_base, self.account, self.secret, self.clock)

    def render(self, post: PostView) -> Rendered:
        text, shortened = fit_text(with_warning(post), post.permalink, x_length, TEXT_LIMIT)
        notes = [NO_EDIT]
        if shortened:
            notes.append("Shortened to fit; it links to the full post.")
        if not self.reads_replies:
            notes.append("Replies on X are not collected (reading posts is a paid part of the X API).")
        choice = choose_video(post, self.capabilities(), alone=True)
        video, images = choice.video, choice.images
        notes += choice.notes
        extra: dict = {"video": video, "language": post.language} if video else {}
        if post.poll is not None:
            extra["poll"] = _poll(post.poll, bool(images or video))
            notes.append("X gets its own poll; its votes are counted there and shown apart from ours."
                         if extra["poll"] else "The poll goes as a link: X polls have at most 4 options of 25 "
                         "characters, one choice, 5 minutes to 7 days, and no images.")
        return Rendered(text, x_length(text), TEXT_LIMIT, TextUnit.WEIGHTED, shortened, images[:4], None,
                        tuple(notes), extra)

    async def publish(self, rendered: Rendered, handle: str) -> Result:
        if rendered.extra.get("video"):
            return await self._video_tweet(rendered, handle)
        media_ids = []
        for image in rendered.images:
            uploaded = await self._upload(image)
            if isinstance(uploaded, Result):
                return uploaded
            media_ids.append(uploaded)
        body: dict = {"text": rendered.text}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        elif rendered.extra.get("poll"):
            body["poll"] = rendered.extra["poll"]
        return await self._tweet(body)

    async def _video_tweet(self, rendered: Rendered, handle: str) -> Result:
        """The video is remembered under the send's handle until the post is made: an attempt that ended while X
        still processed it is followed by one that posts the same upload."""
        uploaded = await upload_video(self.auth, rendered.extra["video"], rendered.extra["language"], self.clock,
                                      self.video_waits, self.chunk_bytes, ALT_LIMIT, remembered(self.account, handle),
                                      lambda media_id: remember(self.account, handle, media_id, self.clock()))
        if isinstance(uploaded, Result):
            return uploaded
        result = await self._tweet({"text": rendered.text, "media": {"media_ids": [uploaded]}})
        if result.outcome is Outcome.SENT:
            forget(self.account, handle)
        return result

    async def _tweet(self, body: dict) -> Result:
        answer = await self.auth.request("POST", "/2/tweets", json_body=body)
        if isinstance(answer, Result):
            return answer
        failure = classify(answer, self.clock(), write=True)
        if failure is not None:
            return failure
        data = answer.data.get("data") if isinstance(answer.data, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            return Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no post id")
        return Result(Outcome.SENT, remote=Remote(str(data["id"]), f"https://x.com/i/web/status/{data['id']}"))

    async def _upload(self, image: ImageView) -> str | Result:
        """Upload, then alt text. Media alone is seen by nobody, so failures here are safe to repeat."""
        fitted = await fitted_file(image.path, IMAGE_BYTES, 4096)
        if fitted is None:
            return Result(Outcome.REJECTED, Reason.IMAGE_UNUSABLE, image.path.rsplit("/", 1)[-1])
        extension = "png" if fitted.mime_type == "image/png" else "jpg"
        files = {"media": (f"image.{extension}", fitted.mime_type, fitted.data)}
        # A factory: a repeat after a token refresh needs a form of its own (a sent one is spent).
        answer = await self.auth.request("POST", "/2/media/upload",
                                         body=lambda: form({"media_category": "tweet_image"}, files))
        if isinstance(answer, Result):
            return answer
        failure = classify(answer, self.clock(), write=False)
        data = answer.data.get("data") if failure is None and isinstance(answer.data, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            return failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no media id")
        if image.alt:
            described = await self.auth.request("POST", "/2/media/metadata", json_body={
                "id": str(data["id"]), "metadata": {"alt_text": {"text": image.alt[:ALT_LIMIT]}}})
            failure = described if isinstance(described, Result) else classify(described, self.clock(), write=False)
            if failure is not None:
                return failure
        return str(data["id"])

    async def reconcile(self, handle: str, rendered: Rendered, since) -> Result:
        return Result(Outcome.UNKNOWN, Reason.UNDECIDABLE, "X offers no way to ask for a post by our own key")

    async def edit(self, remote: Remote, rendered: Rendered) -> Result:
        return Result(Outcome.UNSUPPORTED, Reason.EDIT_UNSUPPORTED, "X cannot edit posts through its API")

    async def delete(self, remote: Remote) -> Result:
        answer = await self.auth.request("DELETE", f"/2/tweets/{remote.id}")
        if isinstance(answer, Result):
            return answer
        return classify(answer, self.clock(), write=True) or Result(Outcome.SENT)

    async def fetch_replies(self, remote: Remote) -> ReplyBatch:
        if not self.reads_replies:
            return ReplyBatch(Result(Outcome.UNSUPPORTED, Reason.REPLIES_UNAVAILABLE, "reading posts is not enabled"))
        query = f"query=conversation_id:{remote.id}%20is:reply&max_results=100" \
                "&tweet.fields=author_id,created_at,conversation_id"
        answer = await self.auth.request("GET", f"/2/tweets/search/recent?{query}")
        if isinstance(answer, Result):
            return ReplyBatch(answer)
        failure = classify(answer, self.clock(), write=False)
        items = answer.data.get("data", []) if failure is None and isinstance(answer.data, dict) else None
        if not isinstance(items, list):
            return ReplyBatch(failure or Result(Outcome.UNAVAILABLE, Reason.REPLIES_UNAVAILABLE, "no data"))
        replies = [r for r in (_reply(i) for i in items if isinstance(i, dict)) if r is not None]
        # Search covers seven days only: a reply missing from it may simply be older, not deleted.
        return ReplyBatch(Result(Outcome.SENT), tuple(replies), (), False, len(items) - len(replies))

    async def fetch_metrics(self, remote: Remote) -> Metrics:
        """`public_metrics` of `GET /2/tweets/:id`; reading posts is billed, so only with `read_replies`."""
        if not self.reads_replies:
            return Metrics(Result(Outcome.UNSUPPORTED, Reason.METRICS_UNAVAILABLE, "reading posts is not enabled"))
        answer = await self.auth.request("GET", f"/2/tweets/{remote.id}?tweet.fields=public_metrics"
                                         "&expansions=attachments.poll_ids&poll.fields=options,voting_status")
        if isinstance(answer, Result):
            return Metrics(answer)
        failure = classify(answer, self.clock(), write=False)
        data = answer.data.get("data") if failure is None and isinstance(answer.data, dict) else None
        polls = (answer.data.get("includes") or {}).get("polls") if isinstance(data, dict) else None
        votes = None
        if isinstance(polls, list) and polls and isinstance(polls[0], dict):
            options = sorted((o for o in polls[0].get("options") or [] if isinstance(o, dict)),
                             key=lambda o: o.get("position", 0))
            votes = poll_votes(options, "votes")
        return metrics_of(failure, data.get("public_metrics") if isinstance(data, dict) else None, X_METRICS, votes)

    def answer_length(self, text: str) -> int:
        return x_length(text)

    async def answer(self, target: AnswerTarget, rendered: Rendered, handle: str) -> Result:
        """`POST /2/tweets` with `reply.in_reply_to_tweet_id`. X has no idempotency key: unknown goes to the editor."""
        if not target.reply_id.startswith("x:"):
            return Result(Outcome.REJECTED, Reason.REPLY_GONE, "not an X post")
        return await self._tweet({"text": rendered.text, "reply": {"in_reply_to_tweet_id": target.reply_id[2:]}})

    async def check_credentials(self) -> Result:
        answer = await self.auth.request("GET", "/2/users/me")
        if isinstance(answer, Result):
            return answer
        return classify(answer, self.clock(), write=False) or Result(Outcome.SENT)


def _reply(item: dict) -> PlatformReply | None:
    text = str(item.get("text") or "")
    if not item.get("id") or not item.get("author_id") or has_opt_out(text):
        return None
    return PlatformReply(f"x:{item['id']}", f"x:{item['author_id']}", text, when(item.get("created_at")),
                         f"https://x.com/i/web/status/{item['id']}")


def _poll(poll: PollView, with_images: bool) -> dict | None:
    """`poll` of POST /2/tweets: 2-4 options of at most 25 characters, one choice, 5 minutes to 7 days, and
    no media alongside; a poll outside these goes as the link alone."""
    minutes = poll.expires_in // 60
    if (with_images or poll.multiple or not 2 <= len(poll.options) <= 4 or any(len(o) > 25 for o in poll.options)
            or not 5 <= minutes <= 10080):
        return None
    return {"options": list(poll.options), "duration_minutes": minutes}
