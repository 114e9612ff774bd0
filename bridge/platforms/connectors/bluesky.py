"""Bluesky (AT Protocol) through the account's PDS: `api_base` is the PDS (https://bsky.social or a
self-hosted one), credentials `handle` and `app_password`, optional `appview` for reading replies
(default https://public.api.bsky.app). Posts are created with a deterministic record key, so an unknown
outcome is reconciled with getRecord instead of posting twice. Bluesky has no edit."""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from urllib.parse import urlencode

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
from bridge.platforms.connectors.bluesky_video import (
    CAPTIONS_TOO_LARGE, VIDEO_BYTES, VIDEO_SECONDS, VIDEO_SERVICE, VideoService, captions_fit,
)
from bridge.platforms.connectors.bluesky_records import facets, mention_facet, post_url, thread_replies, tid
from bridge.platforms.connectors.bluesky_xrpc import Xrpc, classify
from bridge.platforms.connectors.cards import fetch_card
from bridge.platforms.connectors.counting import graphemes, utf8_bytes
from bridge.platforms.connectors.http import Answer, call
from bridge.platforms.connectors.images import fitted_file
from bridge.platforms.connectors.render import fit_text, with_warning
from bridge.platforms.connectors.videos import POLL_DELAYS, choose_video
from bridge.convert.text import parse_text

COLLECTION = "app.bsky.feed.post"
APPVIEW = "https://public.api.bsky.app"
# The lexicon's blob limit for embedded images and card thumbnails; Bluesky raised images to 2 MB in
# 2026, but 1,000,000 bytes is accepted by every PDS and AppView version, old and new.
IMAGE_BYTES = 1_000_000
BLUESKY_METRICS = {"likeCount": "likes", "repostCount": "reposts", "replyCount": "replies",
                   "quoteCount": "quotes"}


def bluesky_length(text: str) -> int:
    """Bluesky allows 300 graphemes AND 3000 bytes: one number that stays ≤ 300 exactly when both hold."""
    return max(graphemes(text), -(-utf8_bytes(text) // 10))


class BlueskyConnector(Connector):
    kind = "bluesky"
    video_polls: tuple[float, ...] = POLL_DELAYS  # the waits while the video service processes (tests shorten them)

    def capabilities(self) -> Capabilities:
        return Capabilities(text_limit=300, text_unit=TextUnit.GRAPHEMES, byte_limit=3000, max_images=4,
                            image_max_bytes=IMAGE_BYTES, image_max_side=2000, link_cards=LinkCards.CLIENT,
                            can_edit=False, idempotency=Idempotency.RECORD_KEY, video=True,
                            video_max_bytes=VIDEO_BYTES, video_max_seconds=VIDEO_SECONDS, video_captions=True)

    @functools.cached_property
    def xrpc(self) -> Xrpc:
        return Xrpc(self.http, self.platform.api_base, self.secret("handle", ""), self.secret("app_password", ""),
                    self.account, self.clock)

    def render(self, post: PostView) -> Rendered:
        text, shortened = fit_text(with_warning(post), post.permalink, bluesky_length, 300)
        found, mentions = facets(text)
        urls = parse_text(text).urls
        notes = ["Bluesky cannot edit posts: later edits on the city's site do not reach Bluesky."]
        if shortened:
            notes.append("Shortened to fit; it links to the full post.")
        choice = choose_video(post, self.capabilities(), alone=True)  # an embed is a video or images, not both
        images = choice.images[:4]
        notes += choice.notes
        if choice.video is not None and not captions_fit(choice.video):
            notes.append(CAPTIONS_TOO_LARGE)
        link = None if post.images or not urls else urls[0]
        if link:
            notes.append("Stadtbote builds the link card (title, description, image of the page).")
        extra = {"facets": found, "mentions": mentions, "langs": [post.language],
                 "created_at": _created(post.published_at or self.clock())}
        if choice.video is not None:
            extra["video"] = choice.video
        return Rendered(text, graphemes(text), 300, TextUnit.GRAPHEMES, shortened, images, link, tuple(notes), extra)

    def video_service(self, xrpc: Xrpc) -> VideoService:
        """The video service (`video_service`, default video.bsky.app), with our PDS as the upload's audience."""
        pds = (self.account.session or {}).get("pds") or self.platform.api_base
        return VideoService(xrpc, self.secret("video_service") or VIDEO_SERVICE, pds, self.video_polls)

    async def publish(self, rendered: Rendered, handle: str) -> Result:
        xrpc = self.xrpc
        failed = await xrpc.login()
        if failed is not None:
            return failed
        record = {"$type": COLLECTION, "text": rendered.text, "createdAt": rendered.extra["created_at"],
                  "langs": rendered.extra["langs"], "facets": list(rendered.extra["facets"])}
        record["facets"] += await self._mentions(xrpc, rendered.extra["mentions"])
        embed = await self._embed(xrpc, rendered)
        if isinstance(embed, Result):
            return embed
        if embed:
            record["embed"] = embed
        rkey = tid(handle)
        answer = await xrpc.request("POST", "com.atproto.repo.createRecord",
                                    json_body={"repo": xrpc.did, "collection": COLLECTION, "rkey": rkey,
                                               "record": record})
        return await self._created(xrpc, answer, rkey)

    async def _created(self, xrpc: Xrpc, answer: Answer | Result, rkey: str) -> Result:
        if isinstance(answer, Result):
            return answer
        failure = classify(answer, self.clock(), write=True)
        if failure is None and isinstance(answer.data, dict) and answer.data.get("uri"):
            uri = str(answer.data["uri"])
            return Result(Outcome.SENT, remote=Remote(uri, post_url(uri), {"cid": answer.data.get("cid"), "rkey": rkey}))
        if failure is not None and failure.outcome in (Outcome.REJECTED, Outcome.UNKNOWN):
            # A duplicate record key is a 500 on PDS 0.5.x (an explicit error later): an earlier attempt
            # got through. Reading the key tells; if it is not there, the failure stands.
            found = await self._get(xrpc, rkey)
            if found.outcome is Outcome.SENT:
                return found
        return failure or Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no uri in the answer")

    async def _mentions(self, xrpc: Xrpc, mentions) -> list[dict]:
        resolved = []
        for start, end, name in mentions:
            answer = await call(self.http, "GET", xrpc.url("com.atproto.identity.resolveHandle", {"handle": name}))
            did = answer.data.get("did") if answer.ok and isinstance(answer.data, dict) else None
            if did:  # an unknown handle stays plain text rather than failing the post
                resolved.append(mention_facet(start, end, str(did)))
        return resolved

    async def _embed(self, xrpc: Xrpc, rendered: Rendered) -> dict | Result | None:
        if rendered.extra.get("video") is not None:
            return await self.video_service(xrpc).embed(rendered.extra["video"], rendered.extra["langs"][0])
        if rendered.images:
            images = []
            for image in rendered.images:
                fitted = await fitted_file(image.path, IMAGE_BYTES, 2000)
                if fitted is None:
                    return Result(Outcome.REJECTED, Reason.IMAGE_UNUSABLE, image.path.rsplit("/", 1)[-1])
                blob = await self._upload(xrpc, fitted.data, fitted.mime_type)
                if isinstance(blob, Result):
                    return blob
                images.append({"image": blob, "alt": image.alt,
                               "aspectRatio": {"width": fitted.width, "height": fitted.height}})
            return {"$type": "app.bsky.embed.images", "images": images}
        if rendered.link:
            return await self._card(xrpc, rendered.link)
        return None

    async def _card(self, xrpc: Xrpc, url: str) -> dict | Result | None:
        card = await fetch_card(self.http, url, IMAGE_BYTES)
        if card is None:
            return None  # an unreadable page: the post goes without a card, the link stays clickable
        external = {"uri": url, "title": card.title, "description": card.description}
        if card.thumb is not None:
            blob = await self._upload(xrpc, card.thumb.data, card.thumb.mime_type)
            if isinstance(blob, Result):
                return blob
            external["thumb"] = blob
        return {"$type": "app.bsky.embed.external", "external": external}

    async def _upload(self, xrpc: Xrpc, data: bytes, mime: str) -> dict | Result:
        answer = await xrpc.request("POST", "com.atproto.repo.uploadBlob", body=data, content_type=mime)
        if isinstance(answer, Result):
            return answer
        # An upload creates no post: a timeout here is safe to repeat, so it is never "unknown".
        failure = classify(answer, self.clock(), write=False)
        blob = answer.data.get("blob") if failure is None and isinstance(answer.data, dict) else None
        return blob if isinstance(blob, dict) else (failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE))

    async def reconcile(self, handle: str, rendered: Rendered, since) -> Result:
        xrpc = self.xrpc
        failed = await xrpc.login()
        return failed if failed is not None else await self._get(xrpc, tid(handle))

    async def _get(self, xrpc: Xrpc, rkey: str) -> Result:
        answer = await xrpc.request("GET", "com.atproto.repo.getRecord",
                                    params={"repo": xrpc.did, "collection": COLLECTION, "rkey": rkey})
        if isinstance(answer, Result):
            return answer
        failure = classify(answer, self.clock(), write=False)
        if failure is not None:
            return Result(Outcome.NOT_FOUND, Reason.NOT_FOUND) if failure.outcome is Outcome.NOT_FOUND else failure
        uri = str(answer.data.get("uri") or f"at://{xrpc.did}/{COLLECTION}/{rkey}")
        return Result(Outcome.SENT, remote=Remote(uri, post_url(uri), {"cid": answer.data.get("cid"), "rkey": rkey}))

    async def edit(self, remote: Remote, rendered: Rendered) -> Result:
        return Result(Outcome.UNSUPPORTED, Reason.EDIT_UNSUPPORTED)

    async def delete(self, remote: Remote) -> Result:
        xrpc = self.xrpc
        rkey = remote.extra.get("rkey") or remote.id.rsplit("/", 1)[-1]
        answer = await xrpc.request("POST", "com.atproto.repo.deleteRecord",
                                    json_body={"repo": xrpc.did, "collection": COLLECTION, "rkey": rkey})
        if isinstance(answer, Result):
            return answer
        return classify(answer, self.clock(), write=True) or Result(Outcome.SENT)

    async def fetch_replies(self, remote: Remote) -> ReplyBatch:
        appview = (self.secret("appview") or APPVIEW).rstrip("/")
        query = urlencode({"uri": remote.id, "depth": 100, "parentHeight": 0})
        answer = await call(self.http, "GET", f"{appview}/xrpc/app.bsky.feed.getPostThread?{query}")
        failure = classify(answer, self.clock(), write=False)
        thread = answer.data.get("thread") if failure is None and isinstance(answer.data, dict) else None
        if not isinstance(thread, dict):
            return ReplyBatch(failure or Result(Outcome.UNAVAILABLE, Reason.REPLIES_UNAVAILABLE, "no thread"))
        replies, gone, skipped = thread_replies(thread)
        return ReplyBatch(Result(Outcome.SENT), tuple(replies), tuple(gone), complete=True, skipped=skipped)

    async def check_credentials(self) -> Result:
        return await self.xrpc.login() or Result(Outcome.SENT)

    async def fetch_metrics(self, remote: Remote) -> Metrics:
        """The AppView's counts on the post view (`app.bsky.feed.getPosts`): public, no login needed."""
        appview = (self.secret("appview") or APPVIEW).rstrip("/")
        answer = await call(self.http, "GET", f"{appview}/xrpc/app.bsky.feed.getPosts?{urlencode({'uris': remote.id})}")
        failure = classify(answer, self.clock(), write=False)
        posts = answer.data.get("posts") if failure is None and isinstance(answer.data, dict) else None
        if failure is None and not posts:
            failure = Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, "not in the AppView")
        return metrics_of(failure, posts[0] if posts else None, BLUESKY_METRICS)

    def answer_length(self, text: str) -> int:
        return bluesky_length(text)

    def render_answer(self, text: str, language: str) -> Rendered:
        found, mentions = facets(text)
        return Rendered(text, bluesky_length(text), 300, TextUnit.GRAPHEMES,
                        extra={"facets": found, "mentions": mentions, "langs": [language]})

    async def answer(self, target: AnswerTarget, rendered: Rendered, handle: str) -> Result:
        """A post whose `reply` holds strong refs (uri + cid) to the thread's root (our post) and to the
        citizen's reply as parent; the same deterministic record key as posts, so a repeat is no duplicate."""
        xrpc = self.xrpc
        failed = await xrpc.login()
        if failed is not None:
            return failed
        parent = await self._strong_ref(xrpc, target.reply_id)
        if isinstance(parent, Result):
            return parent
        root = {"uri": target.root.id, "cid": target.root.extra.get("cid")}
        if not root["cid"]:
            root = await self._strong_ref(xrpc, target.root.id)
            if isinstance(root, Result):
                return root
        record = {"$type": COLLECTION, "text": rendered.text, "createdAt": _created(self.clock()),
                  "langs": rendered.extra["langs"], "facets": list(rendered.extra["facets"]),
                  "reply": {"root": root, "parent": parent}}
        record["facets"] += await self._mentions(xrpc, rendered.extra["mentions"])
        rkey = tid(handle)
        answer = await xrpc.request("POST", "com.atproto.repo.createRecord",
                                    json_body={"repo": xrpc.did, "collection": COLLECTION, "rkey": rkey,
                                               "record": record})
        return await self._created(xrpc, answer, rkey)

    async def _strong_ref(self, xrpc: Xrpc, uri: str) -> dict | Result:
        """The record's current cid: from the AppView (it knows every repo), else from the record's own repo
        through our PDS (which serves the repos it hosts)."""
        appview = (self.secret("appview") or APPVIEW).rstrip("/")
        answer = await call(self.http, "GET", f"{appview}/xrpc/app.bsky.feed.getPosts?{urlencode({'uris': uri})}")
        posts = answer.data.get("posts") if answer.ok and isinstance(answer.data, dict) else None
        if isinstance(posts, list) and posts and isinstance(posts[0], dict) and posts[0].get("cid"):
            return {"uri": uri, "cid": str(posts[0]["cid"])}
        parts = uri.removeprefix("at://").split("/")
        if len(parts) != 3:
            return Result(Outcome.REJECTED, Reason.REPLY_GONE, "not an at:// record address")
        found = await xrpc.request("GET", "com.atproto.repo.getRecord",
                                   params={"repo": parts[0], "collection": parts[1], "rkey": parts[2]})
        if isinstance(found, Result):
            return found
        failure = classify(found, self.clock(), write=False)
        if failure is not None:
            return Result(Outcome.REJECTED, Reason.REPLY_GONE) if failure.outcome is Outcome.NOT_FOUND else failure
        if not isinstance(found.data, dict) or not found.data.get("cid"):
            return Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no cid")
        return {"uri": uri, "cid": str(found.data["cid"])}

    async def reconcile_answer(self, target: AnswerTarget, rendered: Rendered, handle: str, since) -> Result:
        return await self.reconcile(handle, rendered, since)


def _created(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
