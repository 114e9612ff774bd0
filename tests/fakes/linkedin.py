"""aiohttp fake of LinkedIn's REST API (api.linkedin.com) and its OAuth and upload hosts
(www.linkedin.com): Posts API with the required version headers, 201 + `x-restli-id`, partial updates,
deletes, the Images API (initializeUpload + PUT), the Videos API (parts with ETags, captions, finalizeUpload,
processing status), socialActions comments, 429, an expired token (401),
a timeout after the write and a refresh-token grant."""

from __future__ import annotations

import asyncio
import itertools
import time
from urllib.parse import unquote

from aiohttp import web

from fakes.platform_servers import SLOW, Fake, OAuthConsent

IDS = itertools.count(7_100_000_000_000_000_001)


def li_error(status: int, message: str, code: str = "") -> web.Response:
    return web.json_response({"status": status, "message": message, "serviceErrorCode": 100, "code": code},
                             status=status)


class FakeLinkedIn(Fake):
    def __init__(self, token="li-token", upload_host="http://www.linkedin.com") -> None:
        super().__init__()
        self.tokens = {token}
        self.upload_host = upload_host
        self.posts: dict[str, dict] = {}
        self.images: dict[str, int] = {}
        self.comments: dict[str, list[dict]] = {}
        self.nested: list[dict] = []  # comments we wrote under a comment
        self.versions: set[str] = set()
        self.refreshed = 0
        self.likes: dict[str, int] = {}  # total likes per post URN
        self.consent = OAuthConsent(self._granted)
        self.videos: dict[str, dict] = {}  # the Videos API's uploads by video URN
        self.part_bytes = 4_194_304  # the part size LinkedIn's upload instructions name
        self.video_polls = 0  # status reads a finalized video stays PROCESSING
        self.video_error: str | None = None  # set: processing ends PROCESSING_FAILED with this reason

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/rest/posts", self.create)
        app.router.add_get("/rest/posts", self.find)
        app.router.add_post("/rest/posts/{urn}", self.update)
        app.router.add_delete("/rest/posts/{urn}", self.delete)
        app.router.add_post("/rest/images", self.initialize)
        app.router.add_put("/dms-uploads/{image}", self.upload)
        app.router.add_post("/rest/videos", self.video_action)
        app.router.add_get("/rest/videos/{urn}", self.video_status)
        app.router.add_put("/dms-uploads/video/{video}/{part}", self.video_part)
        app.router.add_put("/dms-uploads/captions/{video}", self.video_captions)
        app.router.add_get("/rest/socialActions/{urn}/comments", self.list_comments)
        app.router.add_get("/rest/socialActions/{urn}", self.social_actions)
        app.router.add_post("/rest/socialActions/{urn}/comments", self.create_comment)
        app.router.add_post("/oauth/v2/accessToken", self.refresh)
        self.consent.add_routes(app, "/oauth/v2/authorization", None)  # the token endpoint is `refresh`'s
        return app

    def _granted(self) -> dict:
        self.refreshed += 1
        token = f"li-token-{self.refreshed}"
        self.tokens.add(token)
        return {"access_token": token, "expires_in": 5_184_000, "refresh_token": "li-refresh",
                "refresh_token_expires_in": 31_000_000}

    def _denied(self, request) -> web.Response | None:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return li_error(401, "Invalid access token", "EXPIRED_ACCESS_TOKEN")
        if request.path.startswith("/rest/"):
            version = request.headers.get("LinkedIn-Version", "")
            if not version or request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
                return li_error(400, "A version must be present. Please specify a version by adding the "
                                     "LinkedIn-Version header")
            self.versions.add(version)
        return None

    async def create(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        self.calls.append("POST posts")
        mode = self.take_mode()
        if mode == "429":
            return li_error(429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.")
        if mode == "422":
            return li_error(422, "ERROR :: /commentary :: length exceeds 3000")
        media = ((body.get("content") or {}).get("media") or {}).get("id", "")
        if media.startswith("urn:li:video:") and (self.videos.get(media) or {}).get("status") != "AVAILABLE":
            return li_error(422, f"ERROR :: /content/media/id :: video {media} is not available")
        urn = f"urn:li:share:{next(IDS)}"
        self.posts[urn] = {"id": urn, **body, "createdAt": int(time.time() * 1000)}  # the platform's real clock
        if mode == "timeout_after_write":
            await asyncio.sleep(SLOW)
        if mode == "504_after_write":
            return li_error(504, "Gateway Timeout")
        return web.Response(status=201, headers={"x-restli-id": urn})

    async def find(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        author = request.query.get("author")
        found = [p for p in reversed(self.posts.values()) if p["author"] == author]
        return web.json_response({"elements": found[:int(request.query.get("count", 10))],
                                  "paging": {"start": 0, "count": 10}})

    async def update(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        post = self.posts.get(unquote(request.match_info["urn"]))
        if post is None or request.headers.get("X-RestLi-Method") != "PARTIAL_UPDATE":
            return li_error(404, "Not Found")
        post.update((await request.json())["patch"]["$set"])
        self.calls.append("PARTIAL_UPDATE")
        return web.Response(status=204)

    async def delete(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        self.calls.append("DELETE post")
        self.posts.pop(unquote(request.match_info["urn"]), None)
        return web.Response(status=204)  # idempotent: a missing post is deleted as well

    async def initialize(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        if request.query.get("action") != "initializeUpload":
            return li_error(400, "unknown action")
        image = f"urn:li:image:C4D{next(IDS)}"
        self.images[image] = 0
        return web.json_response({"value": {"uploadUrlExpiresAt": 1795395600000, "image": image,
                                            "uploadUrl": f"{self.upload_host}/dms-uploads/{image}"}})

    async def upload(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        self.images[request.match_info["image"]] = len(await request.read())
        return web.Response(status=201)

    async def video_action(self, request):
        """`POST /rest/videos?action=initializeUpload|finalizeUpload` of the Videos API."""
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        action = request.query.get("action")
        if action == "initializeUpload":
            ask = body.get("initializeUploadRequest") or {}
            size = ask.get("fileSizeBytes")
            if not str(ask.get("owner", "")).startswith("urn:li:") or not isinstance(size, int) or size <= 0:
                return li_error(422, "ERROR :: /initializeUploadRequest :: owner and fileSizeBytes are required")
            urn = f"urn:li:video:D5{next(IDS)}"
            parts = [(first, min(first + self.part_bytes, size) - 1) for first in range(0, size, self.part_bytes)]
            self.videos[urn] = {"size": size, "token": f"token-{urn[-6:]}", "parts": {}, "status": "WAITING_UPLOAD",
                                "captions": None, "finalized_with": None, "asked_captions": ask.get("uploadCaptions")}
            value = {"video": urn, "uploadUrlsExpireAt": 1795395600000, "uploadToken": self.videos[urn]["token"],
                     "uploadInstructions": [{"uploadUrl": f"{self.upload_host}/dms-uploads/video/{urn}/{i}",
                                             "firstByte": first, "lastByte": last}
                                            for i, (first, last) in enumerate(parts)]}
            if ask.get("uploadCaptions"):
                value["captionsUploadUrl"] = f"{self.upload_host}/dms-uploads/captions/{urn}"
            return web.json_response({"value": value})
        if action == "finalizeUpload":
            ask = body.get("finalizeUploadRequest") or {}
            video = self.videos.get(ask.get("video", ""))
            if video is None or ask.get("uploadToken") != video["token"]:
                return li_error(400, "Invalid video or upload token")
            etags = [video["parts"][i][1] for i in sorted(video["parts"])]
            if ask.get("uploadedPartIds") != etags or sum(n for n, _ in video["parts"].values()) != video["size"]:
                return li_error(400, "Uploaded parts do not match the upload instructions")
            video.update(finalized_with=ask["uploadedPartIds"], status="PROCESSING", polls_left=self.video_polls)
            self._processed(video)
            return web.Response(status=200)
        return li_error(400, "unknown action")

    def _processed(self, video: dict) -> None:
        if video.get("polls_left", 0) > 0:
            video["polls_left"] -= 1
        elif video["status"] == "PROCESSING":
            video["status"] = "PROCESSING_FAILED" if self.video_error else "AVAILABLE"

    async def video_status(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        urn = unquote(request.match_info["urn"])
        video = self.videos.get(urn)
        if video is None:
            return li_error(404, "Not Found")
        answer = {"id": urn, "status": video["status"]}
        if video["status"] == "PROCESSING_FAILED":
            answer["processingFailureReason"] = self.video_error
        self._processed(video)
        return web.json_response(answer)

    async def video_part(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        video = self.videos.get(request.match_info["video"])
        if video is None:
            return li_error(404, "Not Found")
        part = int(request.match_info["part"])
        data = await request.read()
        etag = f'"{part}-{len(data)}-{request.match_info["video"][-4:]}"'
        video["parts"][part] = (len(data), etag)
        return web.Response(status=200, headers={"ETag": etag})

    async def video_captions(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        video = self.videos.get(request.match_info["video"])
        if video is None or not video["asked_captions"]:
            return li_error(404, "Not Found")
        video["captions"] = (await request.read()).decode()
        return web.Response(status=200)

    async def list_comments(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        items = self.comments.get(unquote(request.match_info["urn"]), [])
        return web.json_response({"elements": items, "paging": {"start": 0, "count": 100, "total": len(items)}})

    async def social_actions(self, request):
        """GET /rest/socialActions/{urn}: the summary of likes and comments of a post."""
        if (denied := self._denied(request)) is not None:
            return denied
        urn = unquote(request.match_info["urn"])
        if urn not in self.posts:
            return web.json_response({"status": 404, "message": "Not Found"}, status=404)
        comments = len(self.comments.get(urn, []))
        return web.json_response({"target": urn, "likesSummary": {"totalLikes": self.likes.get(urn, 0),
                                                                   "likedByCurrentUser": False},
                                  "commentsSummary": {"count": comments, "aggregatedTotalComments": comments}})

    async def create_comment(self, request):
        """The Comments API: a nested comment is created on the parent comment's URN, with the post as
        `object` and the parent as `parentComment`; 201 with the new comment."""
        if (denied := self._denied(request)) is not None:
            return denied
        target = unquote(request.match_info["urn"])
        body = await request.json()
        self.calls.append("POST comment")
        parent = next((c for items in self.comments.values() for c in items if c["$URN"] == target), None)
        if parent is None or body.get("parentComment") != target or body.get("object") != parent["object"]:
            return li_error(404, "Not Found")
        if not str((body.get("message") or {}).get("text") or "") or not str(body.get("actor", "")).startswith("urn:li:"):
            return li_error(422, "ERROR :: /message/text :: field is required")
        mode = self.take_mode()
        if mode == "429":
            return li_error(429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.")
        urn = f"urn:li:comment:({parent['object']},{next(IDS)})"
        self.nested.append({"$URN": urn, "commentUrn": urn, **body})
        if mode == "timeout_after_write":
            await asyncio.sleep(SLOW)
        return web.json_response({"$URN": urn, "commentUrn": urn, **body}, status=201, headers={"x-restli-id": urn})

    async def refresh(self, request):
        form = await request.post()
        if form.get("grant_type") == "authorization_code":
            return self.consent.exchange(dict(form))
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != "li-refresh":
            return web.json_response({"error": "invalid_request"}, status=400)
        self.refreshed += 1
        token = f"li-token-{self.refreshed}"
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 5_184_000, "refresh_token": "li-refresh",
                                  "refresh_token_expires_in": 31_000_000})


def li_comment(n: int, post_urn: str, text: str, person="abc") -> dict:
    return {"$URN": f"urn:li:comment:({post_urn},{n})", "actor": f"urn:li:person:{person}",
            "message": {"text": text}, "created": {"time": 1795428000000}, "object": post_urn}
