"""Instagram (a professional account) through content publishing: `api_base` is
https://graph.instagram.com/v25.0 (Instagram Login; the 60-day token is refreshed with
`ig_refresh_token`) or https://graph.facebook.com/v25.0 (Facebook Login, a Page-linked token);
credentials `ig_user_id`, `access_token`, optional `token_expires_at` (shown to the admin when the
platform cannot tell).

Instagram requires an image (a text-only post is skipped with that reason), takes JPEG only, and fetches
it from the city's server (`image_url`). Captions have no clickable links. The API can neither edit
captions nor delete posts: both are left to the editor, who is told so. The container id is the
reconciliation handle (`meta_media`).

A video goes as a Reel (`media_type=REELS`, `video_url` on the city's server; 3 seconds to 15 minutes, 300 MB),
in a carousel as a `VIDEO` item; Instagram processes it while the container's `status_code` is IN_PROGRESS,
which is checked a while (then the next attempt publishes the remembered container); ERROR is a refusal with
Instagram's reason. A video that does not fit goes as its poster frame.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from bridge.platforms.connectors.base import (
    AnswerTarget,
    Capabilities,
    Connector,
    Idempotency,
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
    metrics_of,
)
from bridge.platforms.connectors.meta_graph import Graph, classify, current_token, origin
from bridge.platforms.connectors.meta_media import Flow, media_url, publish_container, ready, reconcile_container
from bridge.platforms.connectors.meta_replies import platform_id, post_comment, batch, instagram_comment, instagram_thread, read_pages
from bridge.platforms.connectors.render import fit_text, with_warning
from bridge.platforms.connectors.videos import media_items
from bridge.convert.text import parse_text

CAPTION_LIMIT = 2200
MAX_HASHTAGS = 30
MAX_IMAGES = 10  # a carousel
RATIO = (4 / 5, 1.91)  # the aspect ratios a feed image may have
COMMENT_FIELDS = "id,text,timestamp,username,hidden,from{id,username},replies{id,text,timestamp,username,hidden,from}"
VIDEO_BYTES = 300_000_000  # Reels: 300 MB, 3 seconds to 15 minutes (IG User Media reference)
VIDEO_SECONDS = 15 * 60
VIDEO_MIN_SECONDS = 3
NO_EDIT = "Instagram's API cannot change a caption: edit it in the Instagram app"
NO_DELETE = "Instagram's API cannot delete posts: remove it in the Instagram app"


def usable(image: ImageView) -> bool:
    ratio = image.width / image.height if image.height else 0
    return image.mime_type == "image/jpeg" and RATIO[0] <= ratio <= RATIO[1]


class InstagramConnector(Connector):
    kind = "instagram"
    status_waits = (1.0, 2.0, 4.0)
    video_waits = (2.0, 4.0, 8.0, 15.0, 30.0)  # Instagram fetches and transcodes a video: checks stay bounded

    def capabilities(self) -> Capabilities:
        return Capabilities(text_limit=CAPTION_LIMIT, text_unit=TextUnit.CHARACTERS, max_images=MAX_IMAGES,
                            image_max_bytes=8_000_000, image_formats=("image/jpeg",), alt_text=True,
                            link_cards=LinkCards.NONE, can_edit=False, can_delete=False,
                            idempotency=Idempotency.CONTAINER, requires_image=True, video=True,
                            video_max_bytes=VIDEO_BYTES, video_max_seconds=VIDEO_SECONDS)

    @functools.cached_property
    def flow(self) -> Flow:
        user = self.secret("ig_user_id", "")
        return Flow(f"{user}/media", f"{user}/media_publish", f"{user}/media", "status_code", "caption",
                    lambda item: None, "status")

    async def graph(self) -> Graph:
        instagram_login = urlsplit(self.platform.api_base).hostname == "graph.instagram.com"
        token = await current_token(self.http, self.account, self.secret("access_token", ""), self.clock,
                                    refresh_url=f"{origin(self.platform.api_base)}/refresh_access_token",
                                    grant="ig_refresh_token" if instagram_login else None,
                                    configured_expiry=self.secret("token_expires_at"))
        return Graph(self.http, self.platform.api_base, token, self.clock)

    def render(self, post: PostView) -> Rendered:
        caption, shortened = fit_text(with_warning(post), post.permalink, len, CAPTION_LIMIT)
        items, video_notes = media_items(post, self.capabilities(), VIDEO_MIN_SECONDS)
        media = tuple(i for i in items if isinstance(i, VideoView) or usable(i))[:MAX_IMAGES]
        images = tuple(i for i in media if isinstance(i, ImageView))
        notes, blocked = [NO_EDIT + ".", NO_DELETE + ".", *video_notes], None
        if not post.images:
            blocked = Reason.IMAGE_REQUIRED
            notes.insert(0, "Instagram requires an image: this post is not sent there.")
        elif not media:
            blocked = Reason.IMAGE_UNUSABLE
            notes.insert(0, "Instagram takes JPEG images between 4:5 and 1.91:1 only: none of the images fits.")
        elif len(media) < len(post.images):
            notes.insert(0, "Images that are not JPEG or not between 4:5 and 1.91:1 are left out on Instagram.")
        if len(parse_text(caption).hashtags) > MAX_HASHTAGS:
            blocked = blocked or Reason.REJECTED
            notes.insert(0, "Instagram allows at most 30 hashtags.")
        if parse_text(caption).urls:
            notes.append("Links in Instagram captions are not clickable.")
        if shortened:
            notes.append("Shortened to fit; it names the address of the full post.")
        urls = [media_url(post.permalink, i.path) for i in images]
        pairs = [(media_url(post.permalink, i.path), i) for i in media]
        return Rendered(caption, len(caption), CAPTION_LIMIT, TextUnit.CHARACTERS, shortened, images, None,
                        tuple(notes), {"image_urls": urls, "media": pairs}, blocked)

    async def publish(self, rendered: Rendered, handle: str) -> Result:
        if rendered.blocked or not rendered.extra.get("media"):
            return Result(Outcome.REJECTED, rendered.blocked or Reason.IMAGE_REQUIRED)
        graph = await self.graph()
        video = any(isinstance(item, VideoView) for _, item in rendered.extra["media"])

        async def build():
            return await self._containers(graph, rendered)

        return await publish_container(graph, self.flow, self.account, handle, rendered.text, self.clock, build,
                                       self.video_waits if video else self.status_waits, video)

    async def _containers(self, graph: Graph, rendered: Rendered) -> str | Result:
        """One image or Reel container, or a carousel of item containers. None of it is visible yet, so a
        failure here is safe to repeat (write=False)."""
        pairs = rendered.extra["media"]
        if len(pairs) == 1:
            url, item = pairs[0]
            if isinstance(item, VideoView):
                return await self._create(graph, {"media_type": "REELS", "video_url": url, "caption": rendered.text})
            return await self._create(graph, {"image_url": url, "caption": rendered.text,
                                              "alt_text": item.alt or None})
        children = []
        for url, item in pairs:
            child = await self._item(graph, url, item)
            if isinstance(child, Result):
                return child
            children.append(child)
        return await self._create(graph, {"media_type": "CAROUSEL", "children": ",".join(children),
                                          "caption": rendered.text})

    async def _item(self, graph: Graph, url: str, item: ImageView | VideoView) -> str | Result:
        """A carousel item; a video item is processed before the carousel may name it."""
        if not isinstance(item, VideoView):
            return await self._create(graph, {"image_url": url, "is_carousel_item": "true",
                                              "alt_text": item.alt or None})
        child = await self._create(graph, {"media_type": "VIDEO", "video_url": url, "is_carousel_item": "true"})
        if isinstance(child, Result):
            return child
        return await ready(graph, self.flow, child, self.clock, self.video_waits) or child

    async def _create(self, graph: Graph, fields: dict) -> str | Result:
        answer = await graph.post(self.flow.create, fields)
        failure = classify(answer, self.clock(), write=False)
        container = answer.data.get("id") if failure is None and isinstance(answer.data, dict) else None
        return str(container) if container else (failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE))

    async def reconcile(self, handle: str, rendered: Rendered, since) -> Result:
        graph = await self.graph()
        return await reconcile_container(graph, self.flow, self.account, handle, rendered.text, since, self.clock())

    async def edit(self, remote: Remote, rendered: Rendered) -> Result:
        return Result(Outcome.UNSUPPORTED, Reason.EDIT_UNSUPPORTED, NO_EDIT)

    async def delete(self, remote: Remote) -> Result:
        return Result(Outcome.MANUAL, Reason.DELETE_UNSUPPORTED, NO_DELETE)

    async def fetch_replies(self, remote: Remote) -> ReplyBatch:
        graph = await self.graph()
        items, complete, failure = await read_pages(graph, f"{remote.id}/comments", self.clock(),
                                                    fields=COMMENT_FIELDS, limit=50)
        return batch(self.kind, instagram_thread(items), complete, failure, instagram_comment)

    async def fetch_metrics(self, remote: Remote) -> Metrics:
        """The IG Media's `like_count` and `comments_count` (the likes are left out where the owner hid them)."""
        answer = await (await self.graph()).get(remote.id, fields="like_count,comments_count")
        return metrics_of(classify(answer, self.clock(), write=False), answer.data,
                          {"like_count": "likes", "comments_count": "replies"})

    def answer_limit(self) -> int:
        return CAPTION_LIMIT  # a comment has the caption's 2,200 characters

    async def answer(self, target: AnswerTarget, rendered: Rendered, handle: str) -> Result:
        """A reply to the comment, as the professional account: `POST /{ig-comment-id}/replies`."""
        comment = platform_id(target.reply_id, self.kind)
        if comment is None:
            return Result(Outcome.REJECTED, Reason.REPLY_GONE, "not a Instagram comment")
        return await post_comment(await self.graph(), f"{comment}/replies", rendered.text, self.clock())

    async def check_credentials(self) -> Result:
        graph = await self.graph()
        answer = await graph.get(self.secret("ig_user_id", ""), fields="id,username")
        return classify(answer, self.clock(), write=False) or Result(Outcome.SENT)
