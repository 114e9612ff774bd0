"""A YouTube channel through the YouTube Data API v3: `api_base` https://www.googleapis.com, credentials
`client_id`, `client_secret`, `refresh_token` (and optionally a current `access_token`; see `youtube_api`),
optional `privacy_status` (public, unlisted or private; default public), `category_id` (default 22),
`upload_base` (default `api_base`) and `oauth_base` (default https://oauth2.googleapis.com).

Only posts with a video go to YouTube. The title is the post's first line (at most 100 characters), the
description the whole text with the permalink and a marker naming the post (at most 5000 bytes); YouTube
refuses `<` and `>` in both, so they become ‹ ›. The video goes up in a resumable upload
(developers.google.com/youtube/v3/guides/using_resumable_upload_protocol): a session is opened, the bytes are
PUT, and a broken PUT is followed by a status query (`Content-Range: bytes */N`) and the rest of the bytes.
Then the WebVTT captions become a caption track (`captions.insert`, multipart) in the post's language.
No idempotency handle: an unknown outcome is settled by finding the marker among the channel's uploads.
Comments are read with commentThreads.list and answered with comments.insert.
"""

from __future__ import annotations

import asyncio
import functools
import re
from urllib.parse import urlencode

import aiohttp

from bridge.platforms.connectors.base import (
    AnswerTarget,
    Capabilities,
    Connector,
    Idempotency,
    LinkCards,
    Metrics,
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
)
from bridge.platforms.connectors.counting import utf8_bytes
from bridge.platforms.connectors.http import Answer, file_body, file_size
from bridge.platforms.connectors.images import read_file
from bridge.platforms.connectors.lookup import absent, find_post, uncertain
from bridge.platforms.connectors.meta_media import has_opt_out
from bridge.platforms.connectors.render import fit_text, with_warning
from bridge.platforms.connectors.tokens import when
from bridge.platforms.connectors.videos import upload_seconds
from bridge.platforms.connectors.youtube_api import YouTubeAuth, classify

DESCRIPTION_BYTES = 5000
TITLE_LIMIT = 100
COMMENT_LIMIT = 10_000
PRIVACY = ("public", "unlisted", "private")
RESUME_TRIES = 3
MAX_PAGES = 10
YOUTUBE_METRICS = {"viewCount": "views", "likeCount": "likes", "commentCount": "replies"}
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English", "fr": "Français", "tr": "Türkçe", "uk": "Українська",
                  "ar": "العربية", "pl": "Polski", "ru": "Русский", "es": "Español", "it": "Italiano"}
ANGLES = str.maketrans({"<": "‹", ">": "›"})


def marker(post_id: int) -> str:
    """The line that finds our video again among the channel's uploads after an unknown outcome."""
    return f"(sb:{post_id:x})"


def title_of(text: str, fallback: str) -> str:
    """The first non-empty line, shortened at a word to 100 characters."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "") or fallback.strip() or "Video"
    line = " ".join(line.translate(ANGLES).split())
    if len(line) <= TITLE_LIMIT:
        return line
    cut = line[:TITLE_LIMIT - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip() + "…"


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


class YouTubeConnector(Connector):
    kind = "youtube"

    def capabilities(self) -> Capabilities:
        return Capabilities(text_limit=DESCRIPTION_BYTES, text_unit=TextUnit.CHARACTERS, byte_limit=DESCRIPTION_BYTES,
                            max_images=0, alt_text=False, link_cards=LinkCards.NONE, idempotency=Idempotency.LOOKUP,
                            video=True, video_max_seconds=12 * 3600, video_captions=True, requires_video=True)

    @functools.cached_property
    def auth(self) -> YouTubeAuth:
        return YouTubeAuth(self.http, str(self.secret("oauth_base") or "https://oauth2.googleapis.com"),
                           self.account, self.secret, self.clock)

    def _api(self, resource: str, **params) -> str:
        return f"{self.platform.api_base.rstrip('/')}/youtube/v3/{resource}?{urlencode(params)}"

    def _upload(self, resource: str, **params) -> str:
        base = str(self.secret("upload_base") or self.platform.api_base).rstrip("/")
        return f"{base}/upload/youtube/v3/{resource}?{urlencode(params)}"

    @property
    def privacy(self) -> str:
        """As configured (default public); a value YouTube does not know is taken as private, never as more open."""
        chosen = str(self.secret("privacy_status") or "public").strip().lower()
        return chosen if chosen in PRIVACY else "private"

    def render(self, post: PostView) -> Rendered:
        text = with_warning(post).translate(ANGLES)
        if post.permalink not in text:
            text = f"{text.rstrip()}\n\n▶️ {post.permalink}"
        mark = f"\n\n{marker(post.post_id)}"
        description, shortened = fit_text(text, post.permalink, utf8_bytes, DESCRIPTION_BYTES - utf8_bytes(mark))
        description += mark
        video = post.videos[0] if post.videos else None
        title = title_of(with_warning(post), video.description if video else "")
        notes = ["YouTube gets the video with the post's first line as its title and the text as its description."]
        if video is not None and video.captions_path:
            notes.append("The captions become a caption track on YouTube.")
        if shortened:
            notes.append("Shortened to fit; it links to the full post.")
        extra = {"title": title, "language": post.language, "video": video}
        return Rendered(description, len(description), DESCRIPTION_BYTES, TextUnit.CHARACTERS, shortened, (), None,
                        tuple(notes), extra, None if video else Reason.VIDEO_REQUIRED)

    def _snippet(self, rendered: Rendered) -> dict:
        language = rendered.extra.get("language") or "de"
        return {"title": rendered.extra["title"], "description": rendered.text,
                "categoryId": str(self.secret("category_id") or "22"), "defaultLanguage": language,
                "defaultAudioLanguage": language}

    async def _call(self, method: str, url: str, *, write: bool, **kwargs) -> Answer | Result:
        """The answer when it is a success, else its classified failure."""
        answer = await self.auth.request(method, url, **kwargs)
        if isinstance(answer, Result):
            return answer
        return classify(answer, self.clock(), write=write) or answer

    async def publish(self, rendered: Rendered, handle: str) -> Result:
        video = rendered.extra.get("video")
        if rendered.blocked or video is None:
            return Result(Outcome.REJECTED, rendered.blocked or Reason.VIDEO_REQUIRED)
        size = file_size(video.path)
        if not size:
            return Result(Outcome.REJECTED, Reason.REJECTED, "the video file could not be read")
        body = {"snippet": self._snippet(rendered),
                "status": {"privacyStatus": self.privacy, "selfDeclaredMadeForKids": False}}
        # Opening a session creates nothing anyone sees: a failure here is safe to repeat.
        opened = await self._call("POST", self._upload("videos", uploadType="resumable", part="snippet,status"),
                                  write=False, json_body=body,
                                  headers={"X-Upload-Content-Length": str(size),
                                           "X-Upload-Content-Type": video.mime_type})
        if isinstance(opened, Result):
            return opened
        session_uri = opened.headers.get("Location")
        if not session_uri:
            return Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no upload session")
        uploaded = await self._send_file(session_uri, video.path, size, video.mime_type)
        if isinstance(uploaded, Result):
            return uploaded
        video_id = uploaded.get("id")
        if not video_id:
            return Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no video id")
        return await self._with_captions(str(video_id), rendered, known=False)

    async def _with_captions(self, video_id: str, rendered: Rendered, known: bool) -> Result:
        """SENT for the uploaded video, its captions added as a track. The video is up whatever happens to the
        captions: it stays sent, and the editor learns what is missing. `known`: the video was found again
        after an unknown outcome, so a track may be there already."""
        remote = Remote(video_id, watch_url(video_id))
        video = rendered.extra.get("video")
        if video is None or not video.captions_path:
            return Result(Outcome.SENT, remote=remote)
        captions = await self._existing_captions(video_id) if known else None
        if not captions:
            captions = await self._captions(video_id, video.captions_path, rendered.extra.get("language") or "de")
        if isinstance(captions, Result):
            return Result(Outcome.SENT, Reason.OK, f"captions not added: {captions.description}",
                          remote=Remote(remote.id, remote.url, {"captions": None,
                                                                "captions_failed": str(captions.reason)}))
        return Result(Outcome.SENT, remote=Remote(remote.id, remote.url, {"captions": captions}))

    async def _existing_captions(self, video_id: str) -> str | Result | None:
        answer = await self._call("GET", self._api("captions", part="id", videoId=video_id), write=False)
        if isinstance(answer, Result):
            return answer
        items = answer.data.get("items") if isinstance(answer.data, dict) else None
        return str(items[0].get("id")) if isinstance(items, list) and items and isinstance(items[0], dict) else None

    async def _send_file(self, session_uri: str, path: str, total: int, mime: str) -> dict | Result:
        """PUT the file, streamed; after a broken PUT ask how far the upload got and send the rest. Once bytes
        went out, anything but YouTube's own refusal leaves the outcome unknown: the video may be complete."""
        offset = 0
        last = Result(Outcome.UNKNOWN, Reason.SERVER_ERROR, "upload incomplete")
        for attempt in range(RESUME_TRIES + 1):
            headers = {"Content-Type": mime}
            if attempt:
                status = await self.auth.request("PUT", session_uri, body=b"",
                                                 headers={"Content-Range": f"bytes */{total}"})
                if isinstance(status, Result) or status.status != 308:
                    failure = status if isinstance(status, Result) else classify(status, self.clock(), write=True)
                    if failure is None:  # all the bytes had arrived: the answer is the video
                        return status.data
                    return Result(Outcome.UNKNOWN, failure.reason, failure.detail)
                offset = _received(status)
                headers["Content-Range"] = f"bytes {offset}-{total - 1}/{total}"
            # A factory: a repeat after a token refresh opens the file again (a sent stream is spent).
            sent = await self._call("PUT", session_uri, write=True, body=functools.partial(file_body, path, offset),
                                    headers=headers, timeout=upload_seconds(self.http, total - offset))
            if isinstance(sent, Answer):
                if isinstance(sent.data, dict) and sent.status in (200, 201):
                    return sent.data
                last = Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, f"HTTP {sent.status}")
            elif sent.outcome is Outcome.NOT_FOUND:  # the session expired: no video came of it
                return Result(Outcome.UNAVAILABLE, Reason.NOT_FOUND, "the upload session expired")
            elif sent.outcome in (Outcome.UNKNOWN, Outcome.UNAVAILABLE):
                last = Result(Outcome.UNKNOWN, sent.reason, sent.detail)
            else:
                return sent  # refused (bad video, quota, credentials): YouTube said so, the video is not complete
        return last

    async def _captions(self, video_id: str, path: str, language: str) -> str | Result:
        vtt = await asyncio.to_thread(read_file, path)
        if not vtt:
            return Result(Outcome.REJECTED, Reason.REJECTED, "the captions file could not be read")
        snippet = {"snippet": {"videoId": video_id, "language": language,
                               "name": LANGUAGE_NAMES.get(language, language), "isDraft": False}}
        answer = await self._call("POST", self._upload("captions", uploadType="multipart", part="snippet"),
                                  write=True, body=lambda: related(snippet, vtt, "text/vtt"))
        if isinstance(answer, Result):
            return answer
        data = answer.data if isinstance(answer.data, dict) else {}
        return str(data.get("id") or "")

    async def _uploads_playlist(self) -> str | Result:
        """The channel's "uploads" playlist (and its id), asked once and kept with the account."""
        if self.account.limits.get("uploads"):
            return str(self.account.limits["uploads"])
        answer = await self._call("GET", self._api("channels", part="id,contentDetails", mine="true"), write=False)
        if isinstance(answer, Result):
            return answer
        items = answer.data.get("items") if isinstance(answer.data, dict) else None
        channel = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
        uploads = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
        if not uploads:
            return Result(Outcome.AUTH_FAILED, Reason.INVALID_CREDENTIALS, "the account has no YouTube channel")
        self.account.limits.update(channel_id=str(channel.get("id") or ""), uploads=str(uploads))
        return str(uploads)

    async def reconcile(self, handle: str, rendered: Rendered, since) -> Result:
        uploads = await self._uploads_playlist()
        if isinstance(uploads, Result):
            return uncertain(uploads)
        answer = await self._call("GET", self._api("playlistItems", part="snippet", playlistId=uploads,
                                                   maxResults=50), write=False)
        if isinstance(answer, Result):
            return uncertain(answer)
        mark = rendered.text.rsplit("\n", 1)[-1]
        for item in (answer.data.get("items") if isinstance(answer.data, dict) else None) or []:
            snippet = item.get("snippet") if isinstance(item, dict) else None
            if not isinstance(snippet, dict) or mark not in str(snippet.get("description") or ""):
                continue
            video_id = (snippet.get("resourceId") or {}).get("videoId")
            if video_id:
                return await self._with_captions(str(video_id), rendered, known=True)
        return absent(since, self.clock())

    async def edit(self, remote: Remote, rendered: Rendered) -> Result:
        answer = await self._call("PUT", self._api("videos", part="snippet"), write=True,
                                  json_body={"id": remote.id, "snippet": self._snippet(rendered)})
        return answer if isinstance(answer, Result) else Result(Outcome.SENT)

    async def delete(self, remote: Remote) -> Result:
        answer = await self._call("DELETE", self._api("videos", id=remote.id), write=True)
        return answer if isinstance(answer, Result) else Result(Outcome.SENT)

    async def fetch_replies(self, remote: Remote) -> ReplyBatch:
        """Public comments and their replies; the channel's own (our answers) are not a citizen's reply."""
        threads: list[dict] = []
        page, complete, failure = "", False, None
        for _ in range(MAX_PAGES):
            params = {"part": "snippet,replies", "videoId": remote.id, "maxResults": 100, "textFormat": "plainText"}
            answer = await self._call("GET", self._api("commentThreads", **params, **({"pageToken": page} if page
                                                                                       else {})), write=False)
            if isinstance(answer, Result):
                failure = answer
                break
            data = answer.data if isinstance(answer.data, dict) else {}
            if not isinstance(data.get("items"), list):
                failure = Result(Outcome.UNAVAILABLE, Reason.REPLIES_UNAVAILABLE, "no items")
                break
            threads.extend(t for t in data["items"] if isinstance(t, dict))
            page = str(data.get("nextPageToken") or "")
            if not page:
                complete = True
                break
        if failure is not None and not threads:
            return ReplyBatch(failure)
        replies, skipped = [], 0
        for thread in threads:
            snippet = thread.get("snippet") if isinstance(thread.get("snippet"), dict) else {}
            nested = [c for c in (thread.get("replies") or {}).get("comments") or [] if isinstance(c, dict)]
            if len(nested) < (snippet.get("totalReplyCount") or 0):
                complete = False  # a thread carries only some of its replies
            for comment in [snippet.get("topLevelComment") or {}] + nested:
                reply = _comment(comment, remote.id)
                if reply is None:
                    skipped += 1
                elif reply.author_id != f"youtube:{snippet.get('channelId')}":
                    replies.append(reply)
        return ReplyBatch(Result(Outcome.SENT), tuple(replies), (), complete and failure is None, skipped)

    async def fetch_metrics(self, remote: Remote) -> Metrics:
        """The video's public statistics (views, likes, comments); YouTube sends them as strings."""
        answer = await self._call("GET", self._api("videos", part="statistics", id=remote.id), write=False)
        if isinstance(answer, Result):
            return metrics_of(answer, None, YOUTUBE_METRICS)
        items = answer.data.get("items") if isinstance(answer.data, dict) else None
        if isinstance(items, list) and not items:
            return Metrics(Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, "no such video"))
        stats = (items[0].get("statistics") if isinstance(items, list) and isinstance(items[0], dict) else None) or {}
        counts = {k: int(v) for k, v in stats.items() if isinstance(v, str) and v.isdigit()}
        return metrics_of(None, counts, YOUTUBE_METRICS)

    def answer_limit(self) -> int:
        return COMMENT_LIMIT

    async def answer(self, target: AnswerTarget, rendered: Rendered, handle: str) -> Result:
        """A reply in the comment's thread: `comments.insert` with the top-level comment as `parentId`
        (a reply's id is `<parent>.<reply>`; YouTube nests one level)."""
        parent = _parent(target.reply_id)
        if parent is None:
            return Result(Outcome.REJECTED, Reason.REPLY_GONE, "not a YouTube comment")
        answer = await self._call("POST", self._api("comments", part="snippet"), write=True,
                                  json_body={"snippet": {"parentId": parent, "textOriginal": rendered.text}})
        if isinstance(answer, Result):
            return answer
        comment = answer.data.get("id") if isinstance(answer.data, dict) else None
        if not comment:
            return Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no comment id")
        return Result(Outcome.SENT, remote=Remote(str(comment), f"{watch_url(target.root.id)}&lc={comment}"))

    async def reconcile_answer(self, target: AnswerTarget, rendered: Rendered, handle: str, since) -> Result:
        """Our text among the replies to the comment, written after the first try left."""
        parent = _parent(target.reply_id)
        if parent is None:
            return Result(Outcome.NOT_FOUND, Reason.REPLY_GONE, "not a YouTube comment")
        answer = await self._call("GET", self._api("comments", part="snippet", parentId=parent, maxResults=100,
                                                   textFormat="plainText"), write=False)
        if isinstance(answer, Result):
            return uncertain(answer)
        items = answer.data.get("items") if isinstance(answer.data, dict) else None
        remote = find_post(items or [], rendered.text, since,
                           lambda i: str((i.get("snippet") or {}).get("textOriginal") or ""),
                           lambda i: when((i.get("snippet") or {}).get("publishedAt")),
                           lambda i: Remote(str(i.get("id")), f"{watch_url(target.root.id)}&lc={i.get('id')}"))
        return Result(Outcome.SENT, remote=remote) if remote else absent(since, self.clock())

    async def check_credentials(self) -> Result:
        self.account.limits.pop("uploads", None)  # asked afresh: the admin may have connected another channel
        uploads = await self._uploads_playlist()
        return uploads if isinstance(uploads, Result) else Result(Outcome.SENT)


def _received(answer: Answer) -> int:
    """The next byte YouTube wants after a 308: `Range: bytes=0-N` means N+1; no Range means none arrived."""
    found = re.fullmatch(r"bytes=0-(\d+)", (answer.headers.get("Range") or "").strip())
    return int(found.group(1)) + 1 if found else 0


def _parent(reply_id: str) -> str | None:
    comment = reply_id.removeprefix("youtube:") if reply_id.startswith("youtube:") else ""
    return comment.split(".", 1)[0] or None


def _comment(comment: dict, video_id: str) -> PlatformReply | None:
    """A public comment's minimal fields: its id, the author's channel id, the text and time; no names."""
    snippet = comment.get("snippet") if isinstance(comment.get("snippet"), dict) else {}
    author = (snippet.get("authorChannelId") or {}).get("value") if isinstance(snippet.get("authorChannelId"),
                                                                                dict) else None
    text = str(snippet.get("textOriginal") or snippet.get("textDisplay") or "")
    if not comment.get("id") or not author or has_opt_out(text):
        return None
    return PlatformReply(f"youtube:{comment['id']}", f"youtube:{author}", text, when(snippet.get("publishedAt")),
                         f"{watch_url(video_id)}&lc={comment['id']}")


def related(metadata: dict, media: bytes, media_type: str) -> aiohttp.MultipartWriter:
    """multipart/related as Google's upload endpoints take it: the JSON metadata, then the file."""
    writer = aiohttp.MultipartWriter("related")
    writer.append_json(metadata)
    writer.append(media, {"Content-Type": media_type})
    return writer
