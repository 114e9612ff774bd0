"""aiohttp fake of the YouTube Data API v3 (www.googleapis.com) and Google's OAuth 2.0 endpoints
(accounts.google.com, oauth2.googleapis.com): resumable video upload with status queries (`Content-Range:
bytes */N` answered 308 with `Range`), a mode that drops the connection halfway through the bytes, multipart
caption upload, videos.list/update/delete, channels and the uploads playlist, commentThreads and comments, the
refresh-token grant, and Google's error shapes (403 quotaExceeded, 401 authError, 400 invalidTitle …).
It checks the shapes it is sent and records them."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json

from aiohttp import web

from fakes.platform_servers import SLOW, Fake, OAuthConsent

IDS = itertools.count(1)
CHANNEL, UPLOADS = "UCstadt0000000000000000", "UUstadt0000000000000000"


def google_error(status: int, reason: str, message: str, domain: str = "youtube.api") -> web.Response:
    return web.json_response({"error": {"code": status, "message": message,
                                        "errors": [{"domain": domain, "reason": reason, "message": message}]}},
                             status=status)


def comment(comment_id: str, text: str, author: str = "UCbuerger000000000000000", when="2026-11-23T10:00:00Z",
            video: str = "") -> dict:
    return {"kind": "youtube#comment", "id": comment_id,
            "snippet": {"videoId": video, "textDisplay": text, "textOriginal": text, "authorDisplayName": "Erika",
                        "authorChannelId": {"value": author}, "publishedAt": when, "updatedAt": when}}


def youtube_thread(comment_id: str, video: str, text: str, author: str = "UCbuerger000000000000000",
                   replies: tuple[dict, ...] = (), total: int | None = None) -> dict:
    """A commentThread as commentThreads.list answers it with part=snippet,replies."""
    thread = {"kind": "youtube#commentThread", "id": comment_id,
              "snippet": {"channelId": CHANNEL, "videoId": video, "topLevelComment": comment(comment_id, text, author,
                                                                                             video=video),
                          "canReply": True, "totalReplyCount": len(replies) if total is None else total,
                          "isPublic": True}}
    if replies:
        thread["replies"] = {"comments": list(replies)}
    return thread


class FakeYouTube(Fake):
    def __init__(self, token="yt-token", refresh="yt-refresh", client=("yt-client", "yt-secret")) -> None:
        super().__init__()
        self.tokens = {token}
        self.refresh_tokens = {refresh}
        self.client = client
        self.refreshed = 0
        self.sessions: dict[str, dict] = {}  # upload id -> metadata, expected size, bytes received
        self.videos: dict[str, dict] = {}
        self.captions: list[dict] = []
        self.threads: dict[str, list[dict]] = {}  # video id -> comment threads
        self.inserted: list[dict] = []  # comments.insert bodies
        self.statistics: dict[str, dict] = {}
        self.puts: list[dict] = []  # every PUT to an upload session: Content-Range and size
        self.page_size = 100
        self.drops = 0  # PUTs still to break halfway
        self.comments_disabled: set[str] = set()
        self.consent = OAuthConsent(self._granted)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.outage], client_max_size=250 * 1024 * 1024)
        app.router.add_post("/token", self.token)
        self.consent.add_routes(app, "/o/oauth2/v2/auth", None)
        app.router.add_post("/upload/youtube/v3/videos", self.open_upload)
        app.router.add_put("/upload/youtube/v3/videos", self.put_bytes)
        app.router.add_post("/upload/youtube/v3/captions", self.insert_captions)
        app.router.add_get("/youtube/v3/captions", self.list_captions)
        app.router.add_get("/youtube/v3/videos", self.list_videos)
        app.router.add_put("/youtube/v3/videos", self.update_video)
        app.router.add_delete("/youtube/v3/videos", self.delete_video)
        app.router.add_get("/youtube/v3/channels", self.channels)
        app.router.add_get("/youtube/v3/playlistItems", self.playlist_items)
        app.router.add_get("/youtube/v3/commentThreads", self.comment_threads)
        app.router.add_get("/youtube/v3/comments", self.list_comments)
        app.router.add_post("/youtube/v3/comments", self.insert_comment)
        return app

    def _granted(self) -> dict:
        self.refreshed += 1
        token = f"yt-token-{self.refreshed}"
        self.tokens.add(token)
        self.refresh_tokens.add(f"yt-refresh-{self.refreshed}")
        return {"access_token": token, "expires_in": 3599, "refresh_token": f"yt-refresh-{self.refreshed}",
                "scope": "https://www.googleapis.com/auth/youtube.upload "
                         "https://www.googleapis.com/auth/youtube.force-ssl", "token_type": "Bearer"}

    async def token(self, request):
        form = dict(await request.post())
        self.calls.append(f"token {form.get('grant_type')}")
        if (form.get("client_id"), form.get("client_secret")) != self.client:
            return web.json_response({"error": "invalid_client", "error_description": "Unauthorized"}, status=401)
        if form.get("grant_type") == "authorization_code":
            return self.consent.exchange(form)
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in self.refresh_tokens:
            return web.json_response({"error": "invalid_grant", "error_description": "Token has been expired or "
                                                                                      "revoked."}, status=400)
        self.refreshed += 1
        token = f"yt-token-{self.refreshed}"
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                                  "scope": "https://www.googleapis.com/auth/youtube.upload"})

    def _denied(self, request) -> web.Response | None:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return google_error(401, "authError", "Request had invalid authentication credentials.", "global")
        return None

    def _limited(self, prefix: str = "") -> web.Response | None:
        """The quota answers, for the next write (`prefix` names a write other than the usual first one)."""
        mode = self.mode.removeprefix(prefix) if self.mode and self.mode.startswith(prefix) else None
        if mode == "quota":
            self.mode = None
            return google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded "
                                                      "your quota.", "youtube.quota")
        if mode == "429":
            self.mode = None
            return web.json_response({"error": {"code": 429, "message": "Too many requests",
                                                "status": "RESOURCE_EXHAUSTED"}}, status=429,
                                     headers={"Retry-After": "120"})
        return None

    async def open_upload(self, request):
        if (denied := self._denied(request) or self._limited()) is not None:
            return denied
        q = request.query
        if q.get("uploadType") != "resumable" or set(q.get("part", "").split(",")) != {"snippet", "status"}:
            return google_error(400, "invalidParameter", "uploadType=resumable and part=snippet,status expected")
        body = await request.json()
        snippet, status = body.get("snippet") or {}, body.get("status") or {}
        title, description = str(snippet.get("title") or ""), str(snippet.get("description") or "")
        if not title or len(title) > 100 or "<" in title or ">" in title:
            return google_error(400, "invalidTitle", "The request metadata specifies an invalid video title.")
        if len(description.encode()) > 5000 or "<" in description or ">" in description:
            return google_error(400, "invalidDescription", "The request metadata specifies an invalid video "
                                                           "description.")
        if status.get("privacyStatus") not in ("public", "unlisted", "private"):
            return google_error(400, "invalidVideoMetadata", "privacyStatus")
        size = request.headers.get("X-Upload-Content-Length", "")
        if not size.isdigit() or not request.headers.get("X-Upload-Content-Type", "").startswith("video/"):
            return google_error(400, "badContent", "X-Upload-Content-Length and -Type expected")
        upload_id = f"up{next(IDS)}"
        self.sessions[upload_id] = {"body": body, "size": int(size), "data": b"", "video": None}
        self.calls.append("open upload")
        if self.mode == "token_expires_after_open":  # the access token runs out between opening and the bytes
            self.mode = None
            self.tokens.discard(request.headers["Authorization"].removeprefix("Bearer "))
        location = f"http://{request.host}/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        return web.Response(status=200, headers={"Location": location})

    async def put_bytes(self, request):
        if (denied := self._denied(request)) is not None:
            self.calls.append("upload refused")
            return denied
        upload = self.sessions.get(request.query.get("upload_id", ""))
        if upload is None:
            return google_error(404, "notFound", "upload session expired")
        content_range = request.headers.get("Content-Range", "")
        size = upload["size"]
        self.puts.append({"range": content_range, "length": int(request.headers.get("Content-Length") or 0),
                          "chunked": "chunked" in request.headers.get("Transfer-Encoding", "").lower()})
        if content_range == f"bytes */{size}":  # a status query
            self.calls.append("upload status")
            if self.puts[-1]["length"] != 0:
                return google_error(400, "badContent", "a status query has an empty body")
            if upload.get("broken"):
                return web.Response(status=503, text="backend error")
            if upload["video"]:
                return web.json_response(self.videos[upload["video"]], status=200)
            received = len(upload["data"])
            return web.Response(status=308, headers={"Range": f"bytes=0-{received - 1}"} if received else {})
        start = 0
        if not content_range:  # the whole file from its first byte: what arrived before is discarded
            upload["data"] = b""
        else:
            first, _, rest = content_range.removeprefix("bytes ").partition("-")
            last, _, total = rest.partition("/")
            if not (first.isdigit() and last.isdigit() and total == str(size) and int(last) == size - 1):
                return google_error(400, "badRange", f"bad Content-Range {content_range}")
            start = int(first)
        if start != len(upload["data"]):
            return google_error(400, "badRange", "the range does not continue what arrived")
        mode = self.take_mode() if self.mode in ("drop", "timeout_after_write", "500_after_write") else None
        if mode == "drop":  # the network breaks twice: aiohttp repeats a PUT once by itself, then the connector asks
            self.drops = 2
        if self.drops > 0:  # half of the bytes arrive, then the connection breaks
            self.drops -= 1
            half = (size - start) // 2
            upload["data"] = upload["data"][:start] + await request.content.readexactly(half)
            self.calls.append("upload dropped")
            request.transport.close()
            return web.Response(status=500)
        upload["data"] += await request.read()
        if len(upload["data"]) != size:
            return google_error(400, "badContent", "incomplete upload")
        video = self._create(upload)
        self.calls.append("upload complete")
        if mode == "timeout_after_write":
            await asyncio.sleep(SLOW)
        if mode == "500_after_write":  # the video exists, but neither this answer nor a status query says so
            upload["broken"] = True
            return web.Response(status=503, text="backend error")
        return web.json_response(video, status=200)

    def _create(self, upload: dict) -> dict:
        video_id = f"vid{next(IDS):08d}"
        snippet = {**upload["body"]["snippet"], "channelId": CHANNEL, "publishedAt": "2026-11-23T09:00:00Z"}
        video = {"kind": "youtube#video", "id": video_id, "snippet": snippet, "status": upload["body"]["status"],
                 "bytes": len(upload["data"]), "sha256": hashlib.sha256(upload["data"]).hexdigest()}
        self.videos[video_id] = video
        upload["video"] = video_id
        self.statistics[video_id] = {"viewCount": "0", "likeCount": "0", "favoriteCount": "0", "commentCount": "0"}
        return video

    async def insert_captions(self, request):
        if (denied := self._denied(request) or self._limited("captions_")) is not None:
            return denied
        if request.query.get("uploadType") != "multipart" or request.query.get("part") != "snippet":
            return google_error(400, "invalidParameter", "uploadType=multipart&part=snippet expected")
        if not request.content_type == "multipart/related":
            return google_error(400, "badContent", "multipart/related expected")
        reader = await request.multipart()
        meta_part = await reader.next()
        if meta_part is None or not meta_part.headers.get("Content-Type", "").startswith("application/json"):
            return google_error(400, "badContent", "the metadata comes first, as JSON")
        metadata = json.loads(await meta_part.read())
        file_part = await reader.next()
        track = bytes(await file_part.read()) if file_part is not None else b""
        snippet = metadata.get("snippet") or {}
        if snippet.get("videoId") not in self.videos:
            return google_error(404, "videoNotFound", "The video identified by the videoId parameter could not be "
                                                      "found.")
        if not snippet.get("language") or not snippet.get("name") or not track.startswith(b"WEBVTT"):
            return google_error(400, "invalidMetadata", "language, name and a caption file expected")
        caption = {"id": f"cap{next(IDS)}", "snippet": snippet, "track": track.decode(),
                   "type": file_part.headers.get("Content-Type")}
        self.captions.append(caption)
        self.calls.append("captions")
        return web.json_response({"kind": "youtube#caption", "id": caption["id"], "snippet": snippet})

    async def list_captions(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        video = request.query.get("videoId", "")
        if video not in self.videos:
            return google_error(404, "videoNotFound", "The video identified by the videoId parameter could not be "
                                                      "found.")
        self.calls.append("captions.list")
        return web.json_response({"kind": "youtube#captionListResponse", "items": [
            {"kind": "youtube#caption", "id": c["id"]} for c in self.captions if c["snippet"]["videoId"] == video]})

    async def list_videos(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        ids = [i for i in request.query.get("id", "").split(",") if i in self.videos]
        parts = request.query.get("part", "").split(",")
        items = [{"kind": "youtube#video", "id": i, **({"statistics": self.statistics[i]} if "statistics" in parts
                                                        else {})} for i in ids]
        return web.json_response({"kind": "youtube#videoListResponse", "items": items,
                                  "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})

    async def update_video(self, request):
        if (denied := self._denied(request) or self._limited()) is not None:
            return denied
        body = await request.json()
        video = self.videos.get(str(body.get("id")))
        if request.query.get("part") != "snippet":
            return google_error(400, "invalidParameter", "part=snippet expected")
        if video is None:
            return google_error(404, "videoNotFound", "The video that you are trying to update cannot be found.")
        snippet = body.get("snippet") or {}
        if not snippet.get("title") or not snippet.get("categoryId"):
            return google_error(400, "invalidCategoryId", "title and categoryId are required")
        video["snippet"].update(snippet)
        self.calls.append("update")
        return web.json_response(video)

    async def delete_video(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        if self.videos.pop(request.query.get("id", ""), None) is None:
            return google_error(404, "videoNotFound", "The video that you are trying to delete cannot be found.")
        self.calls.append("delete")
        return web.Response(status=204)

    async def channels(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        if request.query.get("mine") != "true":
            return google_error(400, "missingParameter", "mine=true expected")
        self.calls.append("channels")
        return web.json_response({"kind": "youtube#channelListResponse", "items": [
            {"kind": "youtube#channel", "id": CHANNEL, "contentDetails": {"relatedPlaylists": {"uploads": UPLOADS}}}]})

    async def playlist_items(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        if request.query.get("playlistId") != UPLOADS:
            return google_error(404, "playlistNotFound", "playlist not found")
        self.calls.append("playlistItems")
        items = [{"kind": "youtube#playlistItem", "id": f"pl-{v['id']}",
                  "snippet": {"publishedAt": v["snippet"]["publishedAt"], "channelId": CHANNEL,
                              "title": v["snippet"]["title"], "description": v["snippet"]["description"],
                              "playlistId": UPLOADS, "resourceId": {"kind": "youtube#video", "videoId": v["id"]}}}
                 for v in reversed(list(self.videos.values()))]
        return web.json_response({"kind": "youtube#playlistItemListResponse", "items": items[:50]})

    async def comment_threads(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        if set(request.query.get("part", "").split(",")) != {"snippet", "replies"}:
            return google_error(400, "invalidParameter", "part=snippet,replies expected")
        video = request.query.get("videoId", "")
        if video in self.comments_disabled:
            return google_error(403, "commentsDisabled", "The video identified by the videoId parameter has "
                                                         "disabled comments.")
        if video not in self.threads and video not in self.videos:
            return google_error(404, "videoNotFound", "The video identified by the videoId parameter could not be "
                                                      "found.")
        start = int(request.query.get("pageToken") or 0)
        threads = self.threads.get(video, [])
        page = threads[start:start + self.page_size]
        answer = {"kind": "youtube#commentThreadListResponse", "items": page}
        if start + self.page_size < len(threads):
            answer["nextPageToken"] = str(start + self.page_size)
        self.calls.append("commentThreads")
        return web.json_response(answer)

    def _thread(self, comment_id: str) -> dict | None:
        return next((t for threads in self.threads.values() for t in threads if t["id"] == comment_id), None)

    async def list_comments(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        thread = self._thread(request.query.get("parentId", ""))
        return web.json_response({"kind": "youtube#commentListResponse",
                                  "items": (thread or {}).get("replies", {}).get("comments", [])})

    async def insert_comment(self, request):
        if (denied := self._denied(request) or self._limited()) is not None:
            return denied
        body = await request.json()
        snippet = body.get("snippet") or {}
        thread = self._thread(str(snippet.get("parentId")))
        if thread is None:
            return google_error(404, "parentCommentNotFound", "The specified parent comment could not be found.")
        if not snippet.get("textOriginal"):
            return google_error(400, "commentTextRequired", "The comment resource must contain a textOriginal.")
        self.inserted.append(body)
        reply = comment(f"{thread['id']}.{next(IDS)}", snippet["textOriginal"], CHANNEL,
                        video=thread["snippet"]["videoId"])
        thread.setdefault("replies", {"comments": []})["comments"].append(reply)
        thread["snippet"]["totalReplyCount"] += 1
        self.calls.append("comments.insert")
        if self.take_mode() == "timeout_after_write":
            await asyncio.sleep(SLOW)
        return web.json_response(reply)
