"""A Facebook Page through the Pages API: `api_base` https://graph.facebook.com/v25.0 (pin the version),
credentials `page_id` and a Page `access_token` (derived from a long-lived user token or a system user:
it does not expire, but dies on password change or role loss — code 190 → reconnect needed), optional
`token_expires_at` when the admin knows of an expiry.

Text and link posts go to `/{page-id}/feed` (`link` lets Facebook build the card). Images are uploaded
unpublished to `/{page-id}/photos` with `alt_text_custom`, then attached to one feed post with
`attached_media`. Facebook has no idempotency key: an unknown outcome is settled by finding our text
among the Page's recent posts (`lookup`). Edit is `POST /{post-id}`, delete `DELETE /{post-id}`;
comments need a Page token with the MODERATE task.

A video goes to `/{page-id}/videos` with `file_url` (Facebook fetches it from the city's server, as Instagram
fetches images) and the text as `description`; that makes the Page's post, and the video's id is its handle
(edits change the description). The WebVTT captions follow as a SubRip track in the post's locale
(`POST /{video-id}/captions` with `captions_file` named `….de_DE.srt` and `default_locale`); the video is up
whatever happens to them, and the editor learns when they are missing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Callable

from bridge.platforms.connectors.base import (
    AnswerTarget,
    Capabilities,
    Connector,
    Idempotency,
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
    metrics_of,
)
from bridge.platforms.connectors.images import fitted_file
from bridge.platforms.connectors.lookup import absent, find_post, uncertain
from bridge.platforms.connectors.meta_graph import Graph, classify, current_token
from bridge.platforms.connectors.meta_media import media_url
from bridge.platforms.connectors.meta_replies import platform_id, post_comment, batch, facebook_comment, read_pages
from bridge.platforms.connectors.render import fit_text, with_warning
from bridge.platforms.connectors.tokens import when
from bridge.platforms.connectors.videos import choose_video, srt_of
from bridge.convert.text import parse_text

TEXT_LIMIT = 63_206
MAX_IMAGES = 10
PHOTO_BYTES = 4_000_000  # Facebook's recommendation for photos (the hard limit is higher)
COMMENT_FIELDS = "id,message,created_time,from,permalink_url,is_hidden"
VIDEO_BYTES = 1_000_000_000  # a non-resumable Page video: 1 GB and 20 minutes (Video API, publishing)
VIDEO_SECONDS = 20 * 60
# Facebook's locales are language_TERRITORY; where the usual territory is not the language's own letters
LOCALES = {"en": "en_US", "uk": "uk_UA", "cs": "cs_CZ", "da": "da_DK", "el": "el_GR", "sv": "sv_SE", "ja": "ja_JP",
           "ko": "ko_KR", "zh": "zh_CN", "he": "he_IL", "fa": "fa_IR", "sq": "sq_AL", "sr": "sr_RS", "vi": "vi_VN",
           "hi": "hi_IN", "ar": "ar_AR", "nb": "nb_NO", "sl": "sl_SI", "et": "et_EE", "ga": "ga_IE"}


def facebook_locale(language: str) -> str:
    """A post's language ("de", "de-AT") as Facebook's caption locale ("de_DE", "de_AT")."""
    base, _, region = (language or "de").replace("_", "-").partition("-")
    base = base.lower() or "de"
    if region:
        return f"{base}_{region.upper()}"
    return LOCALES.get(base, f"{base}_{base.upper()}")


class FacebookConnector(Connector):
    kind = "facebook"

    def capabilities(self) -> Capabilities:
        return Capabilities(text_limit=TEXT_LIMIT, text_unit=TextUnit.CHARACTERS, max_images=MAX_IMAGES,
                            image_max_bytes=PHOTO_BYTES, image_max_side=2048, alt_text=True,
                            link_cards=LinkCards.SERVER, idempotency=Idempotency.LOOKUP, video=True,
                            video_max_bytes=VIDEO_BYTES, video_max_seconds=VIDEO_SECONDS, video_captions=True)

    @property
    def page(self) -> str:
        return str(self.secret("page_id", ""))

    async def graph(self) -> Graph:
        token = await current_token(self.http, self.account, self.secret("access_token", ""), self.clock,
                                    refresh_url=None, grant=None, configured_expiry=self.secret("token_expires_at"))
        return Graph(self.http, self.platform.api_base, token, self.clock)

    def render(self, post: PostView) -> Rendered:
        text, shortened = fit_text(with_warning(post), post.permalink, len, TEXT_LIMIT)
        choice = choose_video(post, self.capabilities(), alone=True)
        video, images, notes = choice.video, choice.images, list(choice.notes)
        urls = parse_text(text).urls
        link = urls[0] if urls and not post.images else None
        if link:
            notes.append("Facebook builds the link card itself.")
        if shortened:
            notes.append("Shortened to fit; it links to the full post.")
        extra = {"video": video, "video_url": media_url(post.permalink, video.path),
                 "locale": facebook_locale(post.language)} if video else {}
        return Rendered(text, len(text), TEXT_LIMIT, TextUnit.CHARACTERS, shortened, images[:MAX_IMAGES], link,
                        tuple(notes), extra)

    async def publish(self, rendered: Rendered, handle: str) -> Result:
        graph = await self.graph()
        if rendered.extra.get("video"):
            return await self._video(graph, rendered)
        photos = []
        for image in rendered.images:
            photo = await self._photo(graph, image)
            if isinstance(photo, Result):
                return photo
            photos.append(photo)
        fields = {"message": rendered.text, "link": rendered.link}
        if photos:
            fields["attached_media"] = json.dumps([{"media_fbid": p} for p in photos])
        answer = await graph.post(f"{self.page}/feed", fields)
        return self._made(answer, "post", lambda post_id: Remote(post_id, f"https://www.facebook.com/{post_id}"))

    def _made(self, answer, what: str, remote: Callable[[str], Remote]) -> Result:
        """The outcome of the one call that makes the Page's post (a feed post or a video)."""
        failure = classify(answer, self.clock(), write=True)
        if failure is not None:
            return failure
        made = answer.data.get("id") if isinstance(answer.data, dict) else None
        if not made:
            return Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, f"no {what} id")
        return Result(Outcome.SENT, remote=remote(str(made)))

    async def _video(self, graph: Graph, rendered: Rendered) -> Result:
        """`POST /{page-id}/videos`: the one call that makes the Page's video post (so it counts as the write)."""
        answer = await graph.post(f"{self.page}/videos", {"file_url": rendered.extra["video_url"],
                                                          "description": rendered.text})
        made = self._made(answer, "video", lambda video_id: Remote(
            video_id, f"https://www.facebook.com/{self.page}/videos/{video_id}", {"video": True}))
        if made.outcome is not Outcome.SENT or made.remote is None:
            return made
        return await self._with_captions(graph, made.remote, rendered, known=False)

    async def _with_captions(self, graph: Graph, remote: Remote, rendered: Rendered, known: bool) -> Result:
        """SENT for the video, its captions added as a SubRip track. `known`: the video was found again after an
        unknown outcome, so the track may be there already."""
        video = rendered.extra.get("video")
        srt = srt_of(video) if video is not None and not video.no_speech else ""
        if not srt:
            return Result(Outcome.SENT, remote=remote)
        locale = rendered.extra.get("locale") or "de_DE"
        if known:
            listed = await graph.get(f"{remote.id}/captions")
            tracks = listed.data.get("data") if isinstance(listed.data, dict) else None
            if tracks:
                return Result(Outcome.SENT, remote=Remote(remote.id, remote.url, {**remote.extra, "captions": locale}))
        answer = await graph.post_file(f"{remote.id}/captions", {"default_locale": locale}, "captions_file",
                                       (f"captions.{locale}.srt", "application/x-subrip", srt.encode()))
        failure = classify(answer, self.clock(), write=False)  # the video stands either way
        if failure is not None:
            return Result(Outcome.SENT, Reason.OK, f"captions not added: {failure.description}",
                          remote=Remote(remote.id, remote.url, {**remote.extra, "captions": None,
                                                                "captions_failed": str(failure.reason)}))
        return Result(Outcome.SENT, remote=Remote(remote.id, remote.url, {**remote.extra, "captions": locale}))

    async def _photo(self, graph: Graph, image) -> str | Result:
        """An unpublished photo: visible to nobody until a post attaches it, so a failure is safe to repeat."""
        fitted = await fitted_file(image.path, PHOTO_BYTES, 2048)
        if fitted is None:
            return Result(Outcome.REJECTED, Reason.IMAGE_UNUSABLE, image.path.rsplit("/", 1)[-1])
        extension = "png" if fitted.mime_type == "image/png" else "jpg"
        fields = {"published": "false", **({"alt_text_custom": image.alt} if image.alt else {})}
        answer = await graph.post_file(f"{self.page}/photos", fields, "source",
                                       (f"photo.{extension}", fitted.mime_type, fitted.data))
        failure = classify(answer, self.clock(), write=False)
        photo = answer.data.get("id") if failure is None and isinstance(answer.data, dict) else None
        return str(photo) if photo else (failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE))

    async def reconcile(self, handle: str, rendered: Rendered, since: datetime | None) -> Result:
        graph = await self.graph()
        now = self.clock()
        answer = await graph.get(f"{self.page}/posts", fields="id,message,created_time,permalink_url", limit=25,
                                 since=int(since.timestamp()) - 600 if since else None)
        failure = classify(answer, now, write=False)
        if failure is not None:
            return uncertain(failure)
        items = answer.data.get("data") if isinstance(answer.data, dict) else None
        video = {"video": True} if rendered.extra.get("video") else {}  # its edits change the description
        remote = find_post(items or [], rendered.text, since, lambda i: i.get("message") or "",
                           lambda i: when(i.get("created_time")),
                           lambda i: Remote(str(i["id"]),
                                            i.get("permalink_url") or f"https://www.facebook.com/{i['id']}", video))
        if remote is None:
            return absent(since, now)
        if video:
            return await self._with_captions(graph, remote, rendered, known=True)
        return Result(Outcome.SENT, remote=remote)

    async def edit(self, remote: Remote, rendered: Rendered) -> Result:
        graph = await self.graph()
        # a video post's text is the video's description
        field = "description" if remote.extra.get("video") else "message"
        answer = await graph.post(remote.id, {field: rendered.text})
        return classify(answer, self.clock(), write=True) or Result(Outcome.SENT)

    async def delete(self, remote: Remote) -> Result:
        graph = await self.graph()
        answer = await graph.delete(remote.id)
        return classify(answer, self.clock(), write=True) or Result(Outcome.SENT)

    async def fetch_replies(self, remote: Remote) -> ReplyBatch:
        graph = await self.graph()
        items, complete, failure = await read_pages(graph, f"{remote.id}/comments", self.clock(),
                                                    fields=COMMENT_FIELDS, filter="stream", limit=100)
        return batch(self.kind, items, complete, failure, facebook_comment)

    async def answer(self, target: AnswerTarget, rendered: Rendered, handle: str) -> Result:
        """A reply to the comment, as the Page: `POST /{comment-id}/comments`."""
        comment = platform_id(target.reply_id, self.kind)
        if comment is None:
            return Result(Outcome.REJECTED, Reason.REPLY_GONE, "not a Facebook comment")
        return await post_comment(await self.graph(), f"{comment}/comments", rendered.text, self.clock())

    async def fetch_metrics(self, remote: Remote) -> Metrics:
        """The Page post's totals: reactions and comments as summaries (no one listed: `limit(0)`), shares."""
        answer = await (await self.graph()).get(remote.id, fields="shares,reactions.summary(total_count).limit(0),"
                                                "comments.summary(total_count).limit(0)")
        data = answer.data if isinstance(answer.data, dict) else {}

        def total(edge: str) -> object:
            return ((data.get(edge) or {}).get("summary") or {}).get("total_count")

        # a post nobody shared has no `shares` field at all
        flat = {"likes": total("reactions"), "replies": total("comments"),
                "reposts": (data.get("shares") or {}).get("count", 0)}
        return metrics_of(classify(answer, self.clock(), write=False), flat,
                          {"likes": "likes", "replies": "replies", "reposts": "reposts"})

    async def check_credentials(self) -> Result:
        graph = await self.graph()
        answer = await graph.get(self.page, fields="id,name")
        return classify(answer, self.clock(), write=False) or Result(Outcome.SENT)
