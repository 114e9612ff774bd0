"""Threads through the Threads API: `api_base` https://graph.threads.net/v1.0, credentials
`threads_user_id` (or "me") and a long-lived `access_token` (60 days, refreshed with
`th_refresh_token` once it is a day old), optional `token_expires_at`.

Text posts are TEXT containers, image posts IMAGE or CAROUSEL (2–20 items) with `alt_text`; the image is
fetched by Threads from the city's server. 500 characters, emoji counted as their UTF-8 bytes
(developers.facebook.com/documentation/threads/posts, "Limitations"); at most 5 links since 2025-12-22.
Threads cannot edit; it deletes (100 a day). Replies come from `/{media-id}/conversation`.

A video is a VIDEO container (`video_url` on the city's server, `alt_text` its description; at most 5 minutes
and 1 GB), also as a carousel item; Threads processes it while the container's `status` is IN_PROGRESS, an
ERROR comes with its `error_message`. A video that does not fit goes as its poster frame.
"""

from __future__ import annotations

import functools

import regex

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
    VideoView,
    metrics_of,
)
from bridge.platforms.connectors.meta_graph import Graph, classify, current_token, origin
from bridge.platforms.connectors.lookup import uncertain
from bridge.platforms.connectors.meta_media import (Flow, media_url, publish_container, ready, reconcile_container,
                                                  remembered, status_of)
from bridge.platforms.connectors.meta_replies import platform_id, batch, read_pages, threads_reply
from bridge.platforms.connectors.render import fit_text, with_warning
from bridge.platforms.connectors.videos import media_items
from bridge.convert.text import parse_text

TEXT_LIMIT = 500
MAX_LINKS = 5
MAX_IMAGES = 20
EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
GRAPHEME = regex.compile(r"\X")
VIDEO_BYTES = 1_000_000_000  # Threads videos: 1 GB, 5 minutes (Threads API, media specifications)
VIDEO_SECONDS = 5 * 60
REPLY_FIELDS = "id,text,username,permalink,timestamp,hide_status,is_reply"
INSIGHTS = ("views", "likes", "replies", "reposts", "quotes")  # Threads' names are ours (METRIC_NAMES)


def threads_length(text: str) -> int:
    """Characters, except that an emoji (with its modifiers and joiners) counts its UTF-8 bytes."""
    total = 0
    for cluster in GRAPHEME.findall(text):
        total += len(cluster.encode()) if EMOJI.search(cluster) else len(cluster)
    return total


class ThreadsConnector(Connector):
    kind = "threads"
    status_waits = (1.0, 2.0, 4.0, 8.0)
    video_waits = (2.0, 4.0, 8.0, 15.0, 30.0)  # Threads fetches and transcodes a video: checks stay bounded

    def capabilities(self) -> Capabilities:
        return Capabilities(text_limit=TEXT_LIMIT, text_unit=TextUnit.CHARACTERS, max_images=MAX_IMAGES,
                            image_max_bytes=8_000_000, image_formats=("image/jpeg", "image/png"), alt_text=True,
                            link_cards=LinkCards.SERVER, can_edit=False, idempotency=Idempotency.CONTAINER,
                            video=True, video_max_bytes=VIDEO_BYTES, video_max_seconds=VIDEO_SECONDS)

    @functools.cached_property
    def flow(self) -> Flow:
        user = self.secret("threads_user_id", "me")
        return Flow(f"{user}/threads", f"{user}/threads_publish", f"{user}/threads", "status", "text",
                    lambda item: None, "error_message")

    async def graph(self) -> Graph:
        token = await current_token(self.http, self.account, self.secret("access_token", ""), self.clock,
                                    refresh_url=f"{origin(self.platform.api_base)}/refresh_access_token",
                                    grant="th_refresh_token", configured_expiry=self.secret("token_expires_at"))
        return Graph(self.http, self.platform.api_base, token, self.clock)

    def render(self, post: PostView) -> Rendered:
        text, shortened = fit_text(with_warning(post), post.permalink, threads_length, TEXT_LIMIT)
        items, video_notes = media_items(post, self.capabilities())
        media = tuple(i for i in items if isinstance(i, VideoView) or i.mime_type in ("image/jpeg", "image/png"))
        media = media[:MAX_IMAGES]
        images = tuple(i for i in media if not isinstance(i, VideoView))
        notes = ["Threads cannot edit posts: later edits on the city's site do not reach Threads.", *video_notes]
        blocked = None
        if len(set(parse_text(text).urls)) > MAX_LINKS:
            blocked = Reason.REJECTED
            notes.insert(0, "Threads refuses posts with more than 5 links.")
        if len(media) < len(post.images):
            notes.append("Images that are not JPEG or PNG are left out on Threads.")
        if shortened:
            notes.append("Shortened to fit; it links to the full post.")
        urls = [media_url(post.permalink, i.path) for i in images]
        pairs = [(media_url(post.permalink, i.path), i) for i in media]
        return Rendered(text, threads_length(text), TEXT_LIMIT, TextUnit.CHARACTERS, shortened, images, None,
                        tuple(notes), {"image_urls": urls, "media": pairs}, blocked)

    async def publish(self, rendered: Rendered, handle: str) -> Result:
        graph = await self.graph()
        video = any(isinstance(item, VideoView) for _, item in rendered.extra.get("media", ()))

        async def build():
            return await self._containers(graph, rendered)

        return await publish_container(graph, self.flow, self.account, handle, rendered.text, self.clock, build,
                                       self.video_waits if video else self.status_waits, video)

    async def _containers(self, graph: Graph, rendered: Rendered) -> str | Result:
        pairs = rendered.extra["media"]
        if not pairs:
            return await self._create(graph, {"media_type": "TEXT", "text": rendered.text})
        if len(pairs) == 1:
            return await self._item(graph, *pairs[0], {"text": rendered.text})
        children = []
        for url, item in pairs:
            child = await self._item(graph, url, item, {"is_carousel_item": "true"})
            if isinstance(child, Result):
                return child
            children.append(child)
        return await self._create(graph, {"media_type": "CAROUSEL", "children": ",".join(children),
                                          "text": rendered.text})

    async def _item(self, graph: Graph, url: str, item, fields: dict) -> str | Result:
        """An IMAGE or VIDEO container; a carousel's video is processed before the carousel may name it."""
        if not isinstance(item, VideoView):
            return await self._create(graph, {"media_type": "IMAGE", "image_url": url, **fields,
                                              "alt_text": item.alt or None})
        container = await self._create(graph, {"media_type": "VIDEO", "video_url": url, **fields,
                                               "alt_text": item.description or None})
        if isinstance(container, Result) or "is_carousel_item" not in fields:
            return container
        return await ready(graph, self.flow, container, self.clock, self.video_waits) or container

    async def _create(self, graph: Graph, fields: dict) -> str | Result:
        answer = await graph.post(self.flow.create, fields)
        failure = classify(answer, self.clock(), write=False)  # a container alone is seen by nobody
        container = answer.data.get("id") if failure is None and isinstance(answer.data, dict) else None
        return str(container) if container else (failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE))

    async def reconcile(self, handle: str, rendered: Rendered, since) -> Result:
        graph = await self.graph()
        return await reconcile_container(graph, self.flow, self.account, handle, rendered.text, since, self.clock())

    async def edit(self, remote: Remote, rendered: Rendered) -> Result:
        return Result(Outcome.UNSUPPORTED, Reason.EDIT_UNSUPPORTED, "Threads has no edit in its API")

    async def delete(self, remote: Remote) -> Result:
        graph = await self.graph()
        answer = await graph.delete(remote.id)
        failure = classify(answer, self.clock(), write=True)
        return failure or Result(Outcome.SENT)

    async def fetch_replies(self, remote: Remote) -> ReplyBatch:
        graph = await self.graph()
        items, complete, failure = await read_pages(graph, f"{remote.id}/conversation", self.clock(),
                                                    fields=REPLY_FIELDS, reverse="false")
        return batch(self.kind, items, complete, failure, threads_reply)

    def answer_length(self, text: str) -> int:
        return threads_length(text)

    async def answer(self, target: AnswerTarget, rendered: Rendered, handle: str) -> Result:
        """A text container with `reply_to_id` (the citizen's reply), then published: the container is
        remembered under the answer's handle, so a repeat publishes it instead of making a second one."""
        comment = platform_id(target.reply_id, self.kind)
        if comment is None:
            return Result(Outcome.REJECTED, Reason.REPLY_GONE, "not a Threads comment")
        graph = await self.graph()

        async def build():
            return await self._create(graph, {"media_type": "TEXT", "text": rendered.text, "reply_to_id": comment})

        return await publish_container(graph, self.flow, self.account, handle, rendered.text, self.clock, build,
                                       self.status_waits)

    async def reconcile_answer(self, target: AnswerTarget, rendered: Rendered, handle: str, since) -> Result:
        """The remembered container tells: published means the answer exists, still open means it does not."""
        container = remembered(self.account, handle)
        if container is None:
            return Result(Outcome.UNKNOWN, Reason.UNDECIDABLE, "no container remembered")
        status, failure = await status_of(await self.graph(), self.flow, container, self.clock())
        if failure is not None:
            return uncertain(failure)
        if status == "PUBLISHED":
            return Result(Outcome.SENT, remote=Remote(container, None, {"container": container}))
        return Result(Outcome.NOT_FOUND, Reason.NOT_FOUND)

    async def fetch_metrics(self, remote: Remote) -> Metrics:
        """The media's lifetime insights (`GET /{media-id}/insights`, permission threads_manage_insights):
        aggregate numbers, never who. A failure keeps the last figure (backfeed stores only successes)."""
        answer = await (await self.graph()).get(f"{remote.id}/insights", metric=",".join(INSIGHTS))
        return metrics_of(classify(answer, self.clock(), write=False), insight_values(answer.data),
                          {name: name for name in INSIGHTS})

    async def check_credentials(self) -> Result:
        graph = await self.graph()
        answer = await graph.get(self.secret("threads_user_id", "me"), fields="id,username")
        return classify(answer, self.clock(), write=False) or Result(Outcome.SENT)


def insight_values(data: object) -> dict:
    """{metric: value} of an insights answer: `values[0].value` (media insights), or `total_value.value`."""
    items = data.get("data") if isinstance(data, dict) else None
    found = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        values = item.get("values") if isinstance(item.get("values"), list) else []
        total = item.get("total_value") if isinstance(item.get("total_value"), dict) else {}
        first = values[0] if values and isinstance(values[0], dict) else total
        found[item["name"]] = first.get("value")
    return found
