"""aiohttp fake of the X API v2 (api.x.com): posts, media upload (simple, and chunked INIT/APPEND/FINALIZE with
STATUS while a video is processed) and alt text metadata, subtitles tied to a video, recent search,
OAuth 2.0 token refresh with single-use refresh tokens, 429 with `x-rate-limit-*` headers, the
"duplicate content" 403, and a timeout after the write."""

from __future__ import annotations

import asyncio
import itertools
import time

from aiohttp import web

from fakes.platform_servers import SLOW, Fake, OAuthConsent

IDS = itertools.count(1_860_000_000_000_000_001)


def problem(status: int, title: str, detail: str) -> web.Response:
    return web.json_response({"title": title, "detail": detail, "type": f"https://api.x.com/2/problems/{title}",
                              "status": status}, status=status)


class FakeX(Fake):
    def __init__(self, token="x-token", refresh="x-refresh") -> None:
        super().__init__()
        self.tokens = {token}
        self.refresh_tokens = {refresh}
        self.tweets: dict[str, dict] = {}
        self.media: dict[str, dict] = {}
        self.replies: list[dict] = []
        self.refreshed = 0
        self.poll_votes: list[int] = []
        self.public_metrics = {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0,
                               "bookmark_count": 0, "impression_count": 0}
        self.consent = OAuthConsent(self._granted)
        self.uploads: list[tuple] = []  # the chunked upload's commands as received: (command, media id, detail)
        self.processing_steps = 0  # STATUS checks a video stays pending/in_progress after FINALIZE
        self.processing_error: str | None = None  # set: processing ends "failed" with this message

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2/tweets", self.create)
        app.router.add_delete("/2/tweets/{id}", self.delete)
        app.router.add_post("/2/media/upload", self.upload)
        app.router.add_get("/2/media/upload", self.status)
        app.router.add_post("/2/media/metadata", self.metadata)
        app.router.add_post("/2/media/subtitles", self.subtitles)
        app.router.add_get("/2/tweets/search/recent", self.search)
        app.router.add_get("/2/tweets/{id}", self.lookup)
        app.router.add_get("/2/users/me", self.me)
        app.router.add_post("/2/oauth2/token", self.token)
        self.consent.add_routes(app, "/i/oauth2/authorize", None)  # x.com's page; the token is the API's
        return app

    def _granted(self) -> dict:
        self.refreshed += 1
        token, refresh = f"x-token-{self.refreshed}", f"x-refresh-{self.refreshed}"
        self.tokens.add(token)
        self.refresh_tokens.add(refresh)
        return {"token_type": "bearer", "expires_in": 7200, "access_token": token, "refresh_token": refresh,
                "scope": "tweet.read tweet.write users.read media.write offline.access"}

    def _denied(self, request) -> web.Response | None:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return problem(401, "Unauthorized", "Unauthorized")
        return None

    async def create(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        self.calls.append("POST tweets")
        mode = self.take_mode()
        if mode == "429":
            reset = int(time.time()) + 900
            return web.json_response({"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
                                     status=429, headers={"x-rate-limit-limit": "200", "x-rate-limit-remaining": "0",
                                                          "x-rate-limit-reset": str(reset)})
        if body.get("poll") and body.get("media"):
            return problem(400, "Invalid Request", "Only one of media, poll, quote may be specified.")
        if any(t["text"] == body["text"] for t in self.tweets.values()):
            return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        tweet_id = str(next(IDS))
        self.tweets[tweet_id] = {"id": tweet_id, "text": body["text"],
                                 "media": (body.get("media") or {}).get("media_ids", []),
                                 "in_reply_to": (body.get("reply") or {}).get("in_reply_to_tweet_id"),
                                 "poll": body.get("poll")}
        if mode == "timeout_after_write":
            await asyncio.sleep(SLOW)
        return web.json_response({"data": {"id": tweet_id, "text": body["text"]}}, status=201)

    async def lookup(self, request):
        """GET /2/tweets/:id; `public_metrics` only when asked for in `tweet.fields`, as X does."""
        if (denied := self._denied(request)) is not None:
            return denied
        self.calls.append("GET tweet")
        tweet = self.tweets.get(request.match_info["id"])
        if tweet is None:
            return web.json_response({"errors": [{"title": "Not Found Error", "detail": "Could not find tweet",
                                                  "type": "https://api.x.com/2/problems/resource-not-found"}]})
        data = {"id": tweet["id"], "text": tweet["text"]}
        found: dict = {"data": data}
        if "public_metrics" in request.query.get("tweet.fields", "").split(","):
            data["public_metrics"] = self.public_metrics
        if tweet.get("poll") and "attachments.poll_ids" in request.query.get("expansions", ""):
            data["attachments"] = {"poll_ids": ["1"]}
            votes = self.poll_votes or [0] * len(tweet["poll"]["options"])
            options = [{"position": i + 1, "label": o, "votes": v}
                       for i, (o, v) in enumerate(zip(tweet["poll"]["options"], votes))]
            poll = {"id": "1", "options": list(reversed(options))}  # any order
            if "voting_status" in request.query.get("poll.fields", "").split(","):
                poll["voting_status"] = "open"
            found["includes"] = {"polls": [poll]}
        return web.json_response(found)

    async def delete(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        self.calls.append("DELETE tweet")
        deleted = self.tweets.pop(request.match_info["id"], None) is not None
        return web.json_response({"data": {"deleted": deleted}})

    async def upload(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        form = await request.post()
        if form.get("command"):
            return self.chunked(form)
        media_id = str(next(IDS))
        self.media[media_id] = {"category": form.get("media_category"), "size": len(form["media"].file.read()),
                                "alt": None}
        return web.json_response({"data": {"id": media_id, "media_key": f"3_{media_id}", "size": 1,
                                           "expires_after_secs": 86400}})

    def chunked(self, form) -> web.Response:
        """INIT, APPEND and FINALIZE of the chunked upload, as X checks them: parts in order, at most 5 MB each,
        and all the bytes INIT announced."""
        command = form["command"]
        if command == "INIT":
            media_id = str(next(IDS))
            self.media[media_id] = {"category": form.get("media_category"), "type": form.get("media_type"),
                                    "total": int(form["total_bytes"]), "parts": [], "alt": None, "state": None,
                                    "data": b"", "subtitles": None}
            self.uploads.append(("INIT", media_id, form.get("media_category")))
            return web.json_response({"data": {"id": media_id, "media_key": f"7_{media_id}",
                                               "expires_after_secs": 86400}}, status=202)
        media = self.media.get(form.get("media_id", ""))
        if media is None:
            return problem(400, "Invalid Request", "media_id not found")
        if command == "APPEND":
            data = form["media"].file.read()
            if int(form["segment_index"]) != len(media["parts"]) or len(data) > 5 * 1024 * 1024:
                return problem(400, "Invalid Request", "Segment out of order or too large")
            media["parts"].append(len(data))
            if media["category"] == "subtitles":  # kept to read back; a video's bytes are only counted
                media["data"] += data
            self.uploads.append(("APPEND", form["media_id"], int(form["segment_index"])))
            return web.Response(status=204)  # APPEND answers without a body
        if command == "FINALIZE":
            self.uploads.append(("FINALIZE", form["media_id"], sum(media["parts"])))
            if sum(media["parts"]) != media["total"]:
                return problem(400, "Invalid Request", "File size mismatch")
            if media["category"] != "tweet_video":  # subtitles need no processing: no processing_info
                media["state"] = "succeeded"
                return web.json_response({"data": {"id": form["media_id"], "size": media["total"]}})
            media["steps"] = self.processing_steps
            media["state"] = "pending" if self.processing_steps else self._ended()
            return web.json_response({"data": {"id": form["media_id"], "size": media["total"],
                                               "processing_info": self._info(media)}})
        return problem(400, "Invalid Request", "unknown command")

    def _ended(self) -> str:
        return "failed" if self.processing_error else "succeeded"

    def _info(self, media: dict) -> dict:
        info = {"state": media["state"]}
        if media["state"] in ("pending", "in_progress"):
            info.update(check_after_secs=1, progress_percent=50)
        if media["state"] == "failed":
            info["error"] = {"code": 1, "name": "InvalidMedia", "message": self.processing_error}
        return info

    async def status(self, request):
        """`GET /2/media/upload?command=STATUS&media_id=…`: each check moves processing on by one step."""
        if (denied := self._denied(request)) is not None:
            return denied
        media = self.media.get(request.query.get("media_id", ""))
        if request.query.get("command") != "STATUS" or media is None or media.get("state") is None:
            return problem(400, "Invalid Request", "media_id not found")
        self.uploads.append(("STATUS", request.query["media_id"], media["state"]))
        if media["state"] in ("pending", "in_progress"):
            media["steps"] -= 1
            media["state"] = "in_progress" if media["steps"] > 0 else self._ended()
        return web.json_response({"data": {"id": request.query["media_id"], "processing_info": self._info(media)}})

    async def metadata(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        self.media[body["id"]]["alt"] = body["metadata"]["alt_text"]["text"]
        return web.json_response({"data": {"id": body["id"], "associated_metadata": body["metadata"]}})

    async def subtitles(self, request):
        """`POST /2/media/subtitles`: an uploaded subtitles file tied to a processed video."""
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        video, given = self.media.get(str(body.get("id"))), body.get("subtitles") or {}
        subtitles = self.media.get(str(given.get("id")))
        if video is None or video.get("category") != "tweet_video" or video.get("state") != "succeeded" \
                or subtitles is None or subtitles.get("category") != "subtitles" or not given.get("language_code") \
                or body.get("media_category") != "TweetVideo":
            return problem(400, "Invalid Request", "Invalid subtitles request")
        video["subtitles"] = {"language_code": given["language_code"], "display_name": given.get("display_name"),
                              "srt": subtitles["data"].decode()}
        return web.json_response({"data": {"id": body["id"], "media_category": "TweetVideo",
                                           "associated_subtitles": [given]}})

    async def search(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        self.calls.append("search")
        query = request.query["query"]
        found = [r for r in self.replies if f"conversation_id:{r['conversation_id']}" in query]
        return web.json_response({"data": found, "meta": {"result_count": len(found)}} if found else
                                 {"meta": {"result_count": 0}})

    async def me(self, request):
        return self._denied(request) or web.json_response({"data": {"id": "42", "username": "stadt"}})

    async def token(self, request):
        form = await request.post()
        if form.get("grant_type") == "authorization_code":
            return self.consent.exchange(dict(form))
        if form.get("refresh_token") not in self.refresh_tokens:
            return web.json_response({"error": "invalid_request",
                                      "error_description": "Value passed for the token was invalid."}, status=400)
        self.refresh_tokens.discard(form["refresh_token"])  # single use, as on X
        self.refreshed += 1
        token, refresh = f"x-token-{self.refreshed}", f"x-refresh-{self.refreshed}"
        self.tokens.add(token)
        self.refresh_tokens.add(refresh)
        return web.json_response({"token_type": "bearer", "expires_in": 7200, "access_token": token,
                                  "scope": "tweet.read tweet.write users.read media.write offline.access",
                                  "refresh_token": refresh})


def x_reply(n: int, conversation: str, text: str, author="777") -> dict:
    return {"id": f"{n}", "text": text, "author_id": author, "conversation_id": conversation,
            "created_at": "2026-11-23T10:00:00.000Z"}
