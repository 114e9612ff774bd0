"""A LinkedIn organisation page through the Posts API (Community Management API product): `api_base`
https://api.linkedin.com, credentials `organization_id`, `access_token`, optional `linkedin_version`
(YYYYMM), `token_expires_at`, and — only for apps LinkedIn gave refresh tokens — `refresh_token`,
`client_id`, `client_secret` (`oauth_base`, default https://www.linkedin.com).

A post is `POST /rest/posts`; LinkedIn answers 201 with the post's URN in `x-restli-id`. Images go
through the Images API (initializeUpload, then PUT of the bytes) and carry `altText`; a link gets an
`article` card built by Stadtbote (LinkedIn builds none through the API). Edits are partial updates of the
commentary, deletes `DELETE /rest/posts/{urn}`, comments come from socialActions. No idempotency key:
an unknown outcome is settled by finding our commentary among the page's recent posts (`lookup`).

A video goes through the Videos API (`linkedin_video`: parts with ETags, captions as SubRip) and the post names
it with a title (`content.media`); 3 seconds to 30 minutes, 500 MB. It goes alone: LinkedIn posts carry one
video and nothing else.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone

from bridge.platforms.connectors.base import (
    AnswerTarget,
    Capabilities,
    Connector,
    Idempotency,
    ImageView,
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
from bridge.platforms.connectors.cards import fetch_card
from bridge.platforms.connectors.http import call
from bridge.platforms.connectors.images import fitted_file
from bridge.platforms.connectors.linkedin_rest import (
    DEFAULT_VERSION,
    Rest,
    access_token,
    classify,
    escape_little,
    unescape_little,
    urn_path,
)
from bridge.platforms.connectors.linkedin_video import upload_video
from bridge.platforms.connectors.lookup import absent, find_post, uncertain
from bridge.platforms.connectors.meta_media import forget, has_opt_out, remember, remembered
from bridge.platforms.connectors.render import fit_text, with_warning
from bridge.platforms.connectors.videos import choose_video
from bridge.convert.text import parse_text

TEXT_LIMIT = 3000
COMMENT_LIMIT = 1250  # LinkedIn's limit for a comment's text
MAX_IMAGES = 20
IMAGE_BYTES = 8_000_000
VIDEO_BYTES = 500_000_000  # the Videos API: 75 KB to 500 MB, 3 seconds to 30 minutes
VIDEO_SECONDS = 30 * 60
VIDEO_MIN_SECONDS = 3
VIDEO_TITLE = 400


def linkedin_length(text: str) -> int:
    """Counted as sent, escapes included: never more than LinkedIn counts, so nothing is cut there."""
    return len(escape_little(text))


def _millis(value) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, timezone.utc) if isinstance(value, (int, float)) else None


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


class LinkedInConnector(Connector):
    kind = "linkedin"
    video_waits = (2.0, 4.0, 8.0, 15.0, 30.0)  # LinkedIn processes a video before a post may name it

    def capabilities(self) -> Capabilities:
        return Capabilities(text_limit=TEXT_LIMIT, text_unit=TextUnit.CHARACTERS, max_images=MAX_IMAGES,
                            image_max_bytes=IMAGE_BYTES, image_max_side=4096, alt_text=True, alt_limit=4086,
                            link_cards=LinkCards.CLIENT, idempotency=Idempotency.LOOKUP, video=True,
                            video_max_bytes=VIDEO_BYTES, video_max_seconds=VIDEO_SECONDS, video_captions=True)

    @property
    def author(self) -> str:
        org = str(self.secret("organization_id", ""))
        return org if org.startswith("urn:li:") else f"urn:li:organization:{org}"

    @functools.cached_property
    def oauth_base(self) -> str:
        return str(self.secret("oauth_base") or "https://www.linkedin.com")

    async def rest(self) -> Rest:
        token = await access_token(self.http, self.account, self.secret, self.oauth_base, self.clock)
        return Rest(self.http, self.platform.api_base, token, str(self.secret("linkedin_version") or DEFAULT_VERSION))

    def render(self, post: PostView) -> Rendered:
        plain, shortened = fit_text(with_warning(post), post.permalink, linkedin_length, TEXT_LIMIT)
        text = escape_little(plain)
        urls = parse_text(plain).urls
        link = urls[0] if urls and not post.images else None
        choice = choose_video(post, self.capabilities(), VIDEO_MIN_SECONDS, alone=True)
        video, images = choice.video, choice.images
        notes = ["LinkedIn's reserved characters are escaped so that the text arrives whole.", *choice.notes]
        if link:
            notes.append("Stadtbote builds the link card (title, description, image of the page).")
        if shortened:
            notes.append("Shortened to fit; it links to the full post.")
        extra = {"plain": plain, **({"video": video} if video else {})}
        return Rendered(text, len(text), TEXT_LIMIT, TextUnit.CHARACTERS, shortened, images[:MAX_IMAGES], link,
                        tuple(notes), extra)

    async def publish(self, rendered: Rendered, handle: str) -> Result:
        rest = await self.rest()
        content = await self._content(rest, rendered, handle)
        if isinstance(content, Result):
            return content
        body = {"author": self.author, "commentary": rendered.text, "visibility": "PUBLIC",
                "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                                 "thirdPartyDistributionChannels": []},
                "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
        if content:
            body["content"] = content
        answer = await rest.request("POST", "posts", json_body=body)
        failure = classify(answer, self.clock(), write=True)
        if failure is not None:
            return failure
        urn = answer.headers.get("x-restli-id") or answer.headers.get("X-RestLi-Id")
        if not urn:
            return Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no x-restli-id")
        forget(self.account, handle)  # an uploaded video is used up by the post
        return Result(Outcome.SENT, remote=Remote(urn, post_url(urn)))

    async def _content(self, rest: Rest, rendered: Rendered, handle: str) -> dict | Result | None:
        if rendered.extra.get("video"):
            return await self._video(rest, rendered.extra["video"], handle)
        if rendered.images:
            images = []
            for image in rendered.images:
                urn = await self._image(rest, image)
                if isinstance(urn, Result):
                    return urn
                images.append({"id": urn, "altText": image.alt[:4086]})
            return {"media": images[0]} if len(images) == 1 else {"multiImage": {"images": images}}
        if rendered.link:
            return await self._article(rest, rendered.link)
        return None

    async def _video(self, rest: Rest, video, handle: str) -> dict | Result:
        """The uploaded video is remembered under the send's handle until the post names it: an attempt that
        ended while LinkedIn still processed it is followed by one that posts the same upload."""
        urn = await upload_video(self.http, rest, self.author, video, self.clock, self.video_waits,
                                 remembered(self.account, handle),
                                 lambda urn: remember(self.account, handle, urn, self.clock()))
        if isinstance(urn, Result):
            return urn
        title = video.description.split("\n", 1)[0][:VIDEO_TITLE]  # a plain field, not "little" text
        return {"media": {"id": urn, **({"title": title} if title else {})}}

    async def _article(self, rest: Rest, url: str) -> dict | Result:
        card = await fetch_card(self.http, url, IMAGE_BYTES)
        article = {"source": url, "title": (card.title if card else url)[:400]}
        if card and card.description:
            article["description"] = card.description[:4086]
        if card and card.thumb:
            thumb = await self._upload(rest, card.thumb.data, card.thumb.mime_type)
            if isinstance(thumb, Result):
                return thumb
            article["thumbnail"] = thumb
        return {"article": article}

    async def _image(self, rest: Rest, image: ImageView) -> str | Result:
        fitted = await fitted_file(image.path, IMAGE_BYTES, 4096)
        if fitted is None:
            return Result(Outcome.REJECTED, Reason.IMAGE_UNUSABLE, image.path.rsplit("/", 1)[-1])
        return await self._upload(rest, fitted.data, fitted.mime_type)

    async def _upload(self, rest: Rest, data: bytes, mime: str) -> str | Result:
        """initializeUpload, then PUT the bytes. An image alone is seen by nobody: safe to repeat."""
        answer = await rest.request("POST", "images", raw_query="action=initializeUpload",
                                    json_body={"initializeUploadRequest": {"owner": self.author}})
        failure = classify(answer, self.clock(), write=False)
        value = answer.data.get("value") if failure is None and isinstance(answer.data, dict) else None
        if not isinstance(value, dict) or not value.get("uploadUrl") or not value.get("image"):
            return failure or Result(Outcome.UNAVAILABLE, Reason.MALFORMED_RESPONSE, "no upload URL")
        put = await call(self.http, "PUT", str(value["uploadUrl"]), body=data, content_type=mime,
                         headers={"Authorization": f"Bearer {rest.token}"})
        failure = classify(put, self.clock(), write=False)
        return failure or str(value["image"])

    async def reconcile(self, handle: str, rendered: Rendered, since) -> Result:
        rest = await self.rest()
        now = self.clock()
        answer = await rest.request("GET", "posts", params={"q": "author", "author": self.author, "count": 20,
                                                            "sortBy": "CREATED"}, **{"X-RestLi-Method": "FINDER"})
        failure = classify(answer, now, write=False)
        if failure is not None:
            return uncertain(failure)
        items = answer.data.get("elements") if isinstance(answer.data, dict) else None
        remote = find_post(items or [], rendered.extra["plain"], since,
                           lambda i: unescape_little(str(i.get("commentary") or "")),
                           lambda i: _millis(i.get("createdAt")),
                           lambda i: Remote(str(i["id"]), post_url(str(i["id"]))))
        return Result(Outcome.SENT, remote=remote) if remote else absent(since, now)

    async def edit(self, remote: Remote, rendered: Rendered) -> Result:
        rest = await self.rest()
        answer = await rest.request("POST", f"posts/{urn_path(remote.id)}",
                                    json_body={"patch": {"$set": {"commentary": rendered.text}}},
                                    **{"X-RestLi-Method": "PARTIAL_UPDATE"})
        return classify(answer, self.clock(), write=True) or Result(Outcome.SENT)

    async def delete(self, remote: Remote) -> Result:
        rest = await self.rest()
        answer = await rest.request("DELETE", f"posts/{urn_path(remote.id)}", **{"X-RestLi-Method": "DELETE"})
        return classify(answer, self.clock(), write=True) or Result(Outcome.SENT)

    async def fetch_replies(self, remote: Remote) -> ReplyBatch:
        rest = await self.rest()
        answer = await rest.request("GET", f"socialActions/{urn_path(remote.id)}/comments",
                                    params={"start": 0, "count": 100})
        failure = classify(answer, self.clock(), write=False)
        items = answer.data.get("elements") if failure is None and isinstance(answer.data, dict) else None
        if not isinstance(items, list):
            return ReplyBatch(failure or Result(Outcome.UNAVAILABLE, Reason.REPLIES_UNAVAILABLE, "no elements"))
        total = (answer.data.get("paging") or {}).get("total")
        replies = [r for r in (_comment(i) for i in items if isinstance(i, dict)) if r is not None]
        complete = isinstance(total, int) and total <= len(items)
        return ReplyBatch(Result(Outcome.SENT), tuple(replies), (), complete, len(items) - len(replies))

    async def fetch_metrics(self, remote: Remote) -> Metrics:
        """The Social Actions summary of the post: total likes and comments, never who."""
        rest = await self.rest()
        answer = await rest.request("GET", f"socialActions/{urn_path(remote.id)}")
        data = answer.data if isinstance(answer.data, dict) else {}
        flat = {"likes": (data.get("likesSummary") or {}).get("totalLikes"),
                "replies": (data.get("commentsSummary") or {}).get("aggregatedTotalComments")}
        return metrics_of(classify(answer, self.clock(), write=False), flat, {"likes": "likes", "replies": "replies"})

    def answer_length(self, text: str) -> int:
        return linkedin_length(text)

    def answer_limit(self) -> int:
        return COMMENT_LIMIT

    def render_answer(self, text: str, language: str) -> Rendered:
        escaped = escape_little(text)
        return Rendered(escaped, len(escaped), COMMENT_LIMIT, TextUnit.CHARACTERS, extra={"plain": text})

    async def answer(self, target: AnswerTarget, rendered: Rendered, handle: str) -> Result:
        """A nested comment as the organisation: `POST /rest/socialActions/{comment urn}/comments` with the post
        as `object` and the citizen's comment as `parentComment`. No handle of ours: unknown goes to the editor."""
        if not target.reply_id.startswith("urn:li:comment:"):
            return Result(Outcome.REJECTED, Reason.REPLY_GONE, "not a LinkedIn comment")
        rest = await self.rest()
        body = {"actor": self.author, "object": target.root.id, "parentComment": target.reply_id,
                "message": {"text": rendered.text}}
        answer = await rest.request("POST", f"socialActions/{urn_path(target.reply_id)}/comments", json_body=body)
        failure = classify(answer, self.clock(), write=True)
        if failure is not None:
            return failure
        data = answer.data if isinstance(answer.data, dict) else {}
        urn = data.get("commentUrn") or data.get("$URN") or answer.headers.get("x-restli-id")
        if not urn:
            return Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no comment urn")
        return Result(Outcome.SENT, remote=Remote(str(urn), post_url(target.root.id)))

    async def check_credentials(self) -> Result:
        rest = await self.rest()
        answer = await rest.request("GET", "posts", params={"q": "author", "author": self.author, "count": 1},
                                    **{"X-RestLi-Method": "FINDER"})
        return classify(answer, self.clock(), write=False) or Result(Outcome.SENT)


def _comment(item: dict) -> PlatformReply | None:
    """A comment's minimal fields: its URN, the commenter's URN (person or organisation), text and time."""
    reply_id = item.get("$URN") or item.get("commentUrn")
    actor = item.get("actor")
    text = str((item.get("message") or {}).get("text") or "")
    if not reply_id or not actor or has_opt_out(text):
        return None
    created = _millis((item.get("created") or {}).get("time"))
    return PlatformReply(str(reply_id), str(actor), unescape_little(text), created)
