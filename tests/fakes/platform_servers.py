"""aiohttp fakes of the platform APIs, implementing the documented endpoints with their success and error
shapes, 429 with each platform's headers, a timeout after the write happened, and duplicate-create
behaviour. Each records what it was sent. `mode` switches one behaviour on for the next write."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from urllib.parse import urlencode

from aiohttp import web

from fakes.platforms import QUICK_TIMEOUT, Clock

MAX_REQUEST = 250 * 1024 * 1024  # the platforms take videos of hundreds of MB; aiohttp's default is 1 MB


def file_digest(f) -> tuple[int, str, bytes]:
    """Size, SHA-256 and first bytes of an uploaded file, read in parts (a large video never whole in memory)."""
    digest, size, head = hashlib.sha256(), 0, b""
    while part := f.read(65536):
        head, size = head or part[:16], size + len(part)
        digest.update(part)
    return size, digest.hexdigest(), head


def framing(request) -> dict:
    """How the body came: its declared Content-Length and whether it was chunked instead."""
    return {"content_length": request.content_length,
            "chunked": "chunked" in request.headers.get("Transfer-Encoding", "").lower()}

SLOW = QUICK_TIMEOUT * 2  # longer than the tests' client timeout: "the write happened, the answer never came"


def jwt(kind: str, seconds: int) -> str:
    """Expiry counted from the tests' fixed clock (platform_fakes.Clock), not from the machine's."""
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    exp = int(Clock().now.timestamp()) + seconds
    return f"{part({'alg': 'HS256'})}.{part({'scope': kind, 'exp': exp, 'n': time.time_ns()})}.sig"


class OAuthConsent:
    """An OAuth 2 authorization-code grant with PKCE as the platforms run it: the consent page (the person
    always agrees here, at once) sends the browser back to `redirect_uri` with a code; the token endpoint
    takes the code once, with the same redirect URI and the verifier matching the challenge."""

    def __init__(self, tokens) -> None:
        self.tokens = tokens  # () -> the token answer (the fake's working token)
        self.clients: dict[str, str] = {}  # client_id -> redirect URI, when registered; else any is taken
        self.codes: dict[str, tuple[str, str, str]] = {}  # code -> (client_id, redirect_uri, challenge)
        self.authorized: list[dict] = []  # the query of every consent page shown
        self.exchanged: list[dict] = []  # the form of every token request
        self.deny = False  # the person declines: back to `redirect_uri` with error=access_denied

    def add_routes(self, app: web.Application, authorize: str, token: str | None) -> None:
        app.router.add_get(authorize, self.authorize)
        if token:
            app.router.add_post(token, self.token)

    async def authorize(self, request):
        query = dict(request.query)
        self.authorized.append(query)
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return web.Response(status=400, text="bad request")
        registered = self.clients.get(query.get("client_id", ""))
        if registered is not None and registered != query.get("redirect_uri"):
            return web.Response(status=400, text="redirect_uri does not match")
        if self.deny:  # as Meta and RFC 6749 §4.1.2.1 answer a declined consent
            refused = {"error": "access_denied", "error_reason": "user_denied", "state": query.get("state", "")}
            raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(refused)}")
        code = f"code-{len(self.codes) + 1}"
        self.codes[code] = (query.get("client_id", ""), query.get("redirect_uri", ""), query["code_challenge"])
        raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}")

    async def token(self, request):
        form = dict(await request.post())
        return self.exchange(form)

    def exchange(self, form: dict) -> web.Response:
        self.exchanged.append(form)
        found = self.codes.pop(str(form.get("code", "")), None)
        if form.get("grant_type") != "authorization_code" or found is None:
            return web.json_response({"error": "invalid_grant"}, status=400)
        client_id, redirect_uri, challenge = found
        verifier = str(form.get("code_verifier", ""))
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if form.get("client_id") != client_id or form.get("redirect_uri") != redirect_uri or digest != challenge:
            return web.json_response({"error": "invalid_grant"}, status=400)
        return web.json_response(self.tokens())


class Fake:
    def __init__(self) -> None:
        self.mode: str | None = None
        self.calls: list[str] = []

    def take_mode(self) -> str | None:
        mode, self.mode = self.mode, None
        return mode

    @web.middleware
    async def outage(self, request, handler):
        """While `down` is set, every request gets 503, as a platform in maintenance answers."""
        if getattr(self, "down", False):
            self.calls.append(f"503 {request.path}")
            return web.Response(status=503, text="Service Unavailable", headers={"Retry-After": "60"})
        return await handler(request)


class FakeBluesky(Fake):
    """A PDS (bsky.social), the public AppView (public.api.bsky.app) and the video service (video.bsky.app)
    in one server."""

    PDS = "https://morel.us-east.host.bsky.network"  # the account's PDS behind the bsky.social entryway

    def __init__(self, password="app-pass") -> None:
        super().__init__()
        self.password, self.did = password, "did:plc:stadt"
        self.records: dict[str, dict] = {}
        self.sessions_created = self.refreshed = 0
        self.thread_replies: list[dict] = []
        self.counts = {"likeCount": 0, "repostCount": 0, "replyCount": 0, "quoteCount": 0}  # on our posts
        self.blobs: list[tuple[str, int]] = []  # (mime type, size) of every uploadBlob
        self.service_tokens: dict[str, dict] = {}  # token -> the getServiceAuth parameters it was issued for
        self.videos: list[dict] = []  # what uploadVideo received
        self.jobs: dict[str, dict] = {}
        self.processing_polls = 2  # getJobStatus answers "in process" this often before a job completes
        self.can_upload = True
        self.video_fails = False  # the next job ends in JOB_STATE_FAILED

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.outage], client_max_size=MAX_REQUEST)
        for nsid, handler in {"com.atproto.server.createSession": self.create_session,
                              "com.atproto.server.refreshSession": self.refresh_session,
                              "com.atproto.repo.uploadBlob": self.upload_blob,
                              "com.atproto.repo.createRecord": self.create_record,
                              "com.atproto.repo.deleteRecord": self.delete_record}.items():
            app.router.add_post(f"/xrpc/{nsid}", handler)
        app.router.add_get("/xrpc/com.atproto.repo.getRecord", self.get_record)
        app.router.add_get("/xrpc/app.bsky.feed.getPostThread", self.get_thread)
        app.router.add_get("/xrpc/app.bsky.feed.getPosts", self.get_posts)
        app.router.add_get("/xrpc/com.atproto.identity.resolveHandle", self.resolve_handle)
        app.router.add_get("/xrpc/com.atproto.server.getServiceAuth", self.service_auth)
        app.router.add_get("/xrpc/app.bsky.video.getUploadLimits", self.upload_limits)
        app.router.add_post("/xrpc/app.bsky.video.uploadVideo", self.upload_video)
        app.router.add_get("/xrpc/app.bsky.video.getJobStatus", self.job_status)
        return app

    def _session(self) -> web.Response:
        did_doc = {"id": self.did, "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                                "serviceEndpoint": self.PDS}]}
        return web.json_response({"did": self.did, "handle": "stadt.bsky.social", "accessJwt": jwt("access", 7200),
                                  "refreshJwt": jwt("refresh", 7776000), "didDoc": did_doc})

    async def create_session(self, request):
        self.calls.append("createSession")
        body = await request.json()
        if body.get("password") != self.password:
            return web.json_response({"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                                     status=401)
        self.sessions_created += 1
        return self._session()

    async def refresh_session(self, request):
        self.calls.append("refreshSession")
        self.refreshed += 1
        return self._session()

    async def upload_blob(self, request):
        data = await request.read()
        self.calls.append("uploadBlob")
        self.blobs.append((request.content_type, len(data)))
        return web.json_response({"blob": {"$type": "blob", "ref": {"$link": f"bafk{len(data)}"},
                                           "mimeType": request.content_type, "size": len(data)}})

    async def create_record(self, request):
        body = await request.json()
        self.calls.append("createRecord")
        mode = self.take_mode()
        if mode == "429":
            reset = int(time.time()) + 120
            return web.json_response({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, status=429,
                                     headers={"ratelimit-limit": "5000", "ratelimit-remaining": "0",
                                              "ratelimit-reset": str(reset), "ratelimit-policy": "5000;w=3600"})
        if mode == "expired":
            return web.json_response({"error": "ExpiredToken", "message": "Token has expired"}, status=400)
        if mode == "malformed":
            return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
        rkey = body["rkey"]
        if rkey in self.records:  # PDS 0.5.x: a duplicate record key is an internal error
            return web.json_response({"error": "InternalServerError", "message": "Internal Server Error"}, status=500)
        self.records[rkey] = body["record"]
        if mode == "timeout_after_write":
            await asyncio.sleep(SLOW)
        if mode == "500_after_write":
            return web.json_response({"error": "InternalServerError"}, status=500)
        return web.json_response({"uri": f"at://{self.did}/app.bsky.feed.post/{rkey}", "cid": "bafyrei" + rkey})

    async def get_record(self, request):
        rkey = request.query["rkey"]
        self.calls.append("getRecord")
        if rkey not in self.records:
            return web.json_response({"error": "RecordNotFound", "message": "Could not locate record"}, status=400)
        return web.json_response({"uri": f"at://{self.did}/app.bsky.feed.post/{rkey}", "cid": "bafyrei" + rkey,
                                  "value": self.records[rkey]})

    async def delete_record(self, request):
        body = await request.json()
        self.calls.append("deleteRecord")
        self.records.pop(body["rkey"], None)
        return web.json_response({})

    async def resolve_handle(self, request):
        if request.query["handle"] == "presse.bsky.social":
            return web.json_response({"did": "did:plc:presse"})
        return web.json_response({"error": "InvalidRequest", "message": "Unable to resolve handle"}, status=400)

    async def get_posts(self, request):
        """The AppView's hydrated posts (uri, cid, author, record) for the given at:// URIs it knows."""
        self.calls.append("getPosts")
        wanted = request.query.getall("uris", [])
        known = [n["post"] for n in self.thread_replies if isinstance(n.get("post"), dict)]
        own = [{"uri": f"at://{self.did}/app.bsky.feed.post/{k}", "cid": "bafyrei" + k, "record": r, **self.counts}
               for k, r in self.records.items()]
        return web.json_response({"posts": [p for p in known + own if p["uri"] in wanted]})

    async def get_thread(self, request):
        self.calls.append("getPostThread")
        if self.take_mode() == "malformed":
            return web.Response(text="{not json", content_type="application/json")
        uri = request.query["uri"]
        return web.json_response({"thread": {"$type": "app.bsky.feed.defs#threadViewPost",
                                             "post": {"uri": uri, "author": {"did": self.did}, "record": {}},
                                             "replies": self.thread_replies}})


    async def service_auth(self, request):
        """com.atproto.server.getServiceAuth: a token for one audience (aud) and one method (lxm)."""
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.json_response({"error": "AuthenticationRequired", "message": "Authentication Required"},
                                     status=401)
        self.calls.append("getServiceAuth")
        token = f"service-{len(self.service_tokens) + 1}"
        self.service_tokens[token] = dict(request.query)
        return web.json_response({"token": token})

    def _service_token(self, request, aud: str, lxm: str) -> web.Response | None:
        given = self.service_tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if given is None or given.get("aud") != aud or given.get("lxm") != lxm:
            return web.json_response({"error": "AuthMissing", "message": "bad service token"}, status=401)
        return None

    async def upload_limits(self, request):
        self.calls.append("getUploadLimits")
        if (refused := self._service_token(request, "did:web:video.bsky.app", "app.bsky.video.getUploadLimits")):
            return refused
        if not self.can_upload:
            return web.json_response({"canUpload": False, "remainingDailyVideos": 0, "remainingDailyBytes": 0,
                                      "message": "You have reached your daily upload limit"})
        return web.json_response({"canUpload": True, "remainingDailyVideos": 25, "remainingDailyBytes": 10 ** 10})

    async def upload_video(self, request):
        """app.bsky.video.uploadVideo: raw video/mp4, a token for uploadBlob with our PDS as audience."""
        self.calls.append("uploadVideo")
        pds = "did:web:" + self.PDS.removeprefix("https://")
        if (refused := self._service_token(request, pds, "com.atproto.repo.uploadBlob")):
            return refused
        digest, size, head = hashlib.sha256(), 0, b""
        async for part in request.content.iter_chunked(65536):  # read as it comes: a video may be large
            head, size = head or part[:16], size + len(part)
            digest.update(part)
        self.videos.append({"did": request.query.get("did"), "name": request.query.get("name"),
                            "content_type": request.content_type, "size": size, "mp4": head[4:8] == b"ftyp",
                            "sha256": digest.hexdigest(), **framing(request)})
        if request.content_type != "video/mp4" or request.query.get("did") != self.did:
            return web.json_response({"error": "InvalidRequest", "message": "bad upload"}, status=400)
        job_id = f"job-{len(self.jobs) + 1}"
        self.jobs[job_id] = {"jobId": job_id, "did": self.did, "state": "JOB_STATE_CREATED", "polls": 0,
                             "size": size, "fails": self.video_fails}
        return web.json_response({"jobStatus": self._job(job_id)})

    def _job(self, job_id: str) -> dict:
        job = self.jobs[job_id]
        status = {"jobId": job_id, "did": job["did"], "state": job["state"]}
        if job["state"] == "JOB_STATE_COMPLETED":
            status["blob"] = {"$type": "blob", "ref": {"$link": f"bafkvideo{job['size']}"}, "mimeType": "video/mp4",
                              "size": job["size"]}
        if job["state"] == "JOB_STATE_FAILED":
            status.update(error="Video is too long", failureCode="validation_failure")
        return status

    async def job_status(self, request):
        self.calls.append("getJobStatus")
        job = self.jobs.get(request.query.get("jobId", ""))
        if job is None:
            return web.json_response({"error": "InvalidRequest", "message": "job not found"}, status=400)
        job["polls"] += 1
        if job["polls"] > self.processing_polls:
            job["state"] = "JOB_STATE_FAILED" if job["fails"] else "JOB_STATE_COMPLETED"
        else:
            job["state"] = "JOB_STATE_ENCODING"
        return web.json_response({"jobStatus": {**self._job(job["jobId"]), "progress": 50}})


def bsky_reply(rkey: str, did: str, text: str, labels=(), deleted=False) -> dict:
    uri = f"at://{did}/app.bsky.feed.post/{rkey}"
    if deleted:
        return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}
    return {"$type": "app.bsky.feed.defs#threadViewPost",
            "post": {"uri": uri, "cid": f"bafyreply{rkey}", "author": {"did": did, "handle": "x.bsky.social",
                                                      "labels": [{"val": v} for v in labels]},
                     "record": {"text": text, "createdAt": "2026-11-23T10:00:00.000Z"}}, "replies": []}


class FakeMastodon(Fake):
    """A Mastodon server (mastodon.example) with Idempotency-Key semantics."""

    def __init__(self, token="mastodon-token") -> None:
        super().__init__()
        self.token = token
        self.statuses: dict[str, dict] = {}
        self.keys: dict[str, str] = {}
        self.media: dict[str, dict] = {}
        self.descendants: list[dict] = []
        self.counts = {"favourites_count": 0, "reblogs_count": 0, "replies_count": 0}
        self.poll_votes: list[int] = []  # votes per option of every status's poll, as read back
        self.poll_voters: int | None = None  # people who voted, for multiple choice
        self.verify_delay = 0.0  # seconds verify_credentials takes to answer
        self.processing_polls = 2  # GET /api/v1/media/:id answers 206 this often before a video is processed
        self.video_size_limit = 103809024
        self.consent = OAuthConsent(lambda: {"access_token": self.token, "token_type": "Bearer"})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST)
        app.router.add_post("/api/v1/statuses", self.post_status)
        app.router.add_put("/api/v1/statuses/{id}", self.put_status)
        app.router.add_delete("/api/v1/statuses/{id}", self.delete_status)
        app.router.add_get("/api/v1/statuses/{id}/context", self.context)
        app.router.add_get("/api/v1/statuses/{id}", self.get_status)
        app.router.add_post("/api/v2/media", self.upload)
        app.router.add_get("/api/v1/media/{id}", self.get_media)
        app.router.add_get("/api/v1/accounts/verify_credentials", self.verify)
        app.router.add_get("/api/v2/instance", self.instance)
        app.router.add_get("/api/v2/search", self.search)
        self.consent.add_routes(app, "/oauth/authorize", "/oauth/token")
        app.router.add_post("/api/v1/apps", self.register_app)
        return app

    async def register_app(self, request):
        """POST /api/v1/apps: a client for the OAuth sign-in (Stadtbote registers one per connection)."""
        form = await request.post()
        self.consent.clients[f"client-{len(self.consent.clients) + 1}"] = str(form.get("redirect_uris", ""))
        client_id = list(self.consent.clients)[-1]
        return web.json_response({"id": client_id, "name": form.get("client_name"), "client_id": client_id,
                                  "client_secret": "secret-" + client_id, "redirect_uri": form.get("redirect_uris")})

    def _denied(self, request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "The access token is invalid"}, status=401)
        return None

    async def post_status(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        self.calls.append("POST statuses")
        key = request.headers.get("Idempotency-Key")
        mode = self.take_mode()
        if mode == "429":  # Mastodon's rate limiter answers before the request is looked at
            return web.json_response({"error": "Too many requests"}, status=429,
                                     headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                                              "X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"})
        if key in self.keys:  # the same key within an hour: the original status, not a new one
            return web.json_response(self.statuses[self.keys[key]])
        if mode == "422":
            return web.json_response({"error": "Validation failed: Text character limit of 500 exceeded"}, status=422)
        if any(self.media[m].get("processing") for m in body.get("media_ids") or []):
            return web.json_response({"error": "Cannot attach files that have not finished processing. "
                                               "Try again in a moment!"}, status=422)
        status_id = str(len(self.statuses) + 100)
        self.statuses[status_id] = {"id": status_id, "uri": f"https://mastodon.example/users/stadt/statuses/{status_id}",
                                    "url": f"https://mastodon.example/@stadt/{status_id}", "content": body["status"],
                                    "media_attachments": [self.media[m] for m in body.get("media_ids") or []],
                                    "spoiler_text": body.get("spoiler_text", ""), "visibility": body["visibility"],
                                    "in_reply_to_id": body.get("in_reply_to_id"), "poll": self._poll(body)}
        if key:
            self.keys[key] = status_id
        if mode == "timeout_after_write":
            await asyncio.sleep(SLOW)
        if mode == "502_after_write":
            return web.Response(text="Bad Gateway", status=502)
        return web.json_response(self.statuses[status_id])

    def _poll(self, body: dict) -> dict | None:
        """Mastodon's Poll entity for `poll[...]`; votes per option come from `poll_votes` when read."""
        poll = body.get("poll")
        if not poll:
            return None
        if body.get("media_ids"):
            raise web.HTTPUnprocessableEntity(text='{"error": "Validation failed: Media and poll are mutually '
                                                   'exclusive"}', content_type="application/json")
        return {"id": str(len(self.statuses) + 1), "expires_in": poll["expires_in"], "multiple": poll["multiple"],
                "hide_totals": poll.get("hide_totals", False),
                "options": [{"title": o, "votes_count": 0} for o in poll["options"]]}

    async def get_status(self, request):
        """The Status entity, with the counters its server keeps (`counts`, the same for every status)."""
        self.calls.append("GET status")
        if self.take_mode() == "500":
            return web.json_response({"error": "Internal Server Error"}, status=500)
        status = self.statuses.get(request.match_info["id"])
        if status is None:
            return web.json_response({"error": "Record not found"}, status=404)
        found = {**status, **self.counts}
        if status.get("poll"):
            votes = self.poll_votes or [0] * len(status["poll"]["options"])
            # Mastodon: `voters_count` counts people for multiple choice, and is null for single choice
            voters = (self.poll_voters if self.poll_voters is not None else sum(votes)) \
                if status["poll"]["multiple"] else None
            found["poll"] = {**status["poll"], "votes_count": sum(votes), "voters_count": voters,
                             "options": [{"title": o["title"], "votes_count": v}
                                         for o, v in zip(status["poll"]["options"], votes)]}
        return web.json_response(found)

    async def put_status(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        status = self.statuses.get(request.match_info["id"])
        if status is None:
            return web.json_response({"error": "Record not found"}, status=404)
        status["content"] = (await request.json())["status"]
        self.calls.append("PUT status")
        return web.json_response(status)

    async def delete_status(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        self.calls.append("DELETE status")
        if self.statuses.pop(request.match_info["id"], None) is None:
            return web.json_response({"error": "Record not found"}, status=404)
        return web.json_response({})

    async def upload(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        form = await request.post()
        media_id = str(len(self.media) + 500)
        upload = form["file"]
        if upload.content_type.startswith("video/"):
            return self._video(media_id, form, framing(request))
        self.media[media_id] = {"id": media_id, "type": "image", "description": form["description"],
                                "size": len(upload.file.read())}
        self.calls.append("POST media")
        return web.json_response(self.media[media_id])

    def _video(self, media_id: str, form, framed: dict) -> web.Response:
        """A video is processed after the upload: 202 with `url` null, as Mastodon answers (v2 media)."""
        self.calls.append("POST media video")
        size, sha256, head = file_digest(form["file"].file)
        if size > self.video_size_limit:
            return web.json_response({"error": "Validation failed: File file size must be less than 99 MB"},
                                     status=422)
        thumbnail = form.get("thumbnail")
        self.media[media_id] = {"id": media_id, "type": "video", "url": None, "description": form["description"],
                                "size": size, "mime_type": form["file"].content_type,
                                "thumbnail": thumbnail.content_type if thumbnail is not None else None,
                                "processing": self.processing_polls, "mp4": head[4:8] == b"ftyp", "sha256": sha256,
                                **framed}
        return web.json_response(self._media_entity(media_id), status=202)

    def _media_entity(self, media_id: str) -> dict:
        media = self.media[media_id]
        done = not media.get("processing")
        return {"id": media_id, "type": media["type"], "description": media["description"],
                "url": f"https://mastodon.example/system/media/{media_id}.mp4" if done else None,
                "preview_url": f"https://mastodon.example/system/media/{media_id}.jpg"}

    async def get_media(self, request):
        """206 while the video is being processed, 200 once it is (GET /api/v1/media/:id)."""
        if (denied := self._denied(request)) is not None:
            return denied
        self.calls.append("GET media")
        media = self.media.get(request.match_info["id"])
        if media is None:
            return web.json_response({"error": "Record not found"}, status=404)
        if media.get("processing"):
            media["processing"] -= 1
            return web.json_response(self._media_entity(request.match_info["id"]), status=206)
        return web.json_response(self._media_entity(request.match_info["id"]))

    async def context(self, request):
        if (denied := self._denied(request)) is not None:
            return denied
        return web.json_response({"ancestors": [], "descendants": self.descendants})

    async def search(self, request):
        """`resolve=true` finds a remote status by its URI; only what this server knows (the descendants)."""
        if (denied := self._denied(request)) is not None:
            return denied
        self.calls.append("GET search")
        found = [s for s in self.descendants if s.get("uri") == request.query.get("q")]
        return web.json_response({"accounts": [], "statuses": found[:1], "hashtags": []})

    async def verify(self, request):
        self.calls.append("GET verify")
        await asyncio.sleep(self.verify_delay)
        return self._denied(request) or web.json_response({"id": "1", "username": "stadt"})

    async def instance(self, request):
        return web.json_response({"domain": "mastodon.example", "configuration": {
            "statuses": {"max_characters": 1000, "characters_reserved_per_url": 23, "max_media_attachments": 4},
            "media_attachments": {"image_size_limit": 16777216, "description_limit": 1500,
                                  "video_size_limit": self.video_size_limit,
                                  "supported_mime_types": ["image/jpeg", "image/png", "video/mp4", "video/webm"]}}})


def mastodon_reply(n: int, text: str, visibility="public", note="") -> dict:
    return {"id": str(n), "uri": f"https://social.example/users/anna/statuses/{n}",
            "url": f"https://social.example/@anna/{n}", "visibility": visibility, "content": f"<p>{text}</p>",
            "created_at": "2026-11-23T10:00:00.000Z",
            "account": {"id": "7", "uri": f"https://social.example/users/anna{n % 2}", "note": note,
                        "acct": f"anna{n % 2}@social.example"}}


class FakeTelegram(Fake):
    """The Bot API (api.telegram.org): /bot<token>/<method>, {"ok":…} envelopes."""

    def __init__(self, token="123:ABC") -> None:
        super().__init__()
        self.token = token
        self.messages: dict[int, dict] = {}
        self.updates: list[dict] = []
        self.next_id = 40
        self.uploads: list[dict] = []  # what each sendVideo / sendMediaGroup carried (fields, files, media)
        self.videos: list[dict] = []  # each sendVideo's framing (Content-Length, chunked) and its video's SHA-256
        self.framing: dict = {}
        self.poll_requests: list[dict] = []
        self.stopped: list[int] = []
        self.polls_forbidden = False

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST)
        app.router.add_post("/bot{token}/{method}", self.dispatch)
        return app

    async def dispatch(self, request):
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        self.calls.append(method)
        body = await request.json() if request.content_type == "application/json" else dict(await request.post())
        self.framing = framing(request)
        handler = getattr(self, f"m_{method}", None)
        return await handler(body) if handler else web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    def _ok(self, result) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _send(self, body, kind: str, count: int = 1):
        mode = self.take_mode()
        if mode == "429":
            return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                                      "parameters": {"retry_after": 7}}, status=429)
        sent = []
        for i in range(count):
            self.next_id += 1
            self.messages[self.next_id] = {"message_id": self.next_id, "kind": kind,
                                           "text": body.get("text") or (body.get("caption") if i == 0 else None),
                                           "chat_id": body.get("chat_id"),
                                           "reply_parameters": body.get("reply_parameters")}
            sent.append(self.messages[self.next_id])
        if mode == "timeout_after_write":
            await asyncio.sleep(SLOW)
        return self._ok(sent if count > 1 else sent[0])

    async def m_sendMessage(self, body):
        return await self._send(body, "text")

    async def m_sendPhoto(self, body):
        return await self._send(body, "photo")

    async def m_sendMediaGroup(self, body):
        media = json.loads(body["media"])
        if any(m.get("type") != "photo" for m in media):
            return await self._video_group(body, media)
        return await self._send({"caption": media[0].get("caption")}, "photo", len(media))

    def _received(self, body) -> dict:
        """The form as sent: text fields as they are, files as (type, size)."""
        return {k: (v.content_type, file_digest(v.file)[0]) if hasattr(v, "file") else v for k, v in body.items()}

    async def m_sendVideo(self, body):
        video = body.get("video")
        self.videos.append({**self.framing, "sha256": file_digest(video.file)[1]} if hasattr(video, "file") else {})
        if hasattr(video, "file"):
            video.file.seek(0)
        received = self._received(body)
        self.uploads.append(received)
        if not isinstance(received.get("video"), tuple):
            return web.json_response({"ok": False, "error_code": 400, "description":
                                      "Bad Request: there is no video in the request"}, status=400)
        if received["video"][1] > 50 * 1024 * 1024:
            return web.json_response({"ok": False, "error_code": 413, "description": "Request Entity Too Large"},
                                     status=413)
        return await self._send(body, "video")

    async def _video_group(self, body, media):
        """A media group with InputMediaVideo: every attach:// name must be a file of the request."""
        received = self._received(body)
        self.uploads.append({**received, "media": media})
        named = [m["media"] for m in media] + [m["thumbnail"] for m in media if m.get("thumbnail")]
        if any(not isinstance(received.get(n.removeprefix("attach://")), tuple) for n in named):
            return web.json_response({"ok": False, "error_code": 400, "description":
                                      "Bad Request: wrong file identifier/HTTP URL specified"}, status=400)
        response = await self._send({"caption": media[0].get("caption")}, media[0]["type"], len(media))
        for message, item in zip(json.loads(response.body).get("result") or [], media):
            self.messages[message["message_id"]]["kind"] = item["type"]
        return response

    async def m_editMessageText(self, body):
        message = self.messages[int(body["message_id"])]
        if message["text"] == body["text"]:
            return web.json_response({"ok": False, "error_code": 400, "description":
                                      "Bad Request: message is not modified"}, status=400)
        message["text"] = body["text"]
        return self._ok(message)

    async def m_editMessageCaption(self, body):
        self.messages[int(body["message_id"])]["text"] = body["caption"]
        return self._ok(self.messages[int(body["message_id"])])

    async def m_deleteMessage(self, body):
        if self.messages.pop(int(body["message_id"]), None) is None:
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request: message to delete not found"}, status=400)
        return self._ok(True)

    async def m_sendPoll(self, body):
        """Bot API sendPoll: 1-300 character question, 2-10 InputPollOption of 1-100 characters; channels take
        anonymous polls only; open_period 5-600 s. Answers the Message with its Poll."""
        options = body.get("options") or []
        texts = [o.get("text") if isinstance(o, dict) else o for o in options]
        problem = ("poll question length must be 1-300" if not 1 <= len(body.get("question") or "") <= 300 else
                   "poll must have 2-10 options" if not 2 <= len(texts) <= 10 else
                   "poll options length must be 1-100" if any(not t or len(t) > 100 for t in texts) else
                   "polls in channels must be anonymous" if body.get("is_anonymous") is False else
                   "open_period must be 5-600" if "open_period" in body and not 5 <= body["open_period"] <= 600
                   else None)
        if self.polls_forbidden:  # the bot's admin rights in the channel do not cover polls
            problem = "CHAT_SEND_POLLS_FORBIDDEN"
        if problem:
            return web.json_response({"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"},
                                     status=400)
        self.poll_requests.append(body)
        self.next_id += 1
        poll = {"id": f"poll-{self.next_id}", "question": body["question"], "total_voter_count": 0,
                "options": [{"text": t, "voter_count": 0} for t in texts], "is_closed": False,
                "is_anonymous": True, "type": "regular", "allows_multiple_answers": bool(body.get("allows_multiple_answers"))}
        self.messages[self.next_id] = {"message_id": self.next_id, "kind": "poll", "chat_id": body.get("chat_id"),
                                       "poll": poll, "reply_parameters": body.get("reply_parameters"), "text": None}
        return self._ok({"message_id": self.next_id, "chat": {"id": -1001, "type": "channel"}, "date": 0, "poll": poll})

    def vote(self, message_id: int, counts: list[int], voters: int | None = None) -> None:
        """People vote in the app: the bot gets a `poll` update with the new state (`voters`: how many people,
        fewer than the votes in a multiple-choice poll)."""
        poll = self.messages[message_id]["poll"]
        for option, count in zip(poll["options"], counts):
            option["voter_count"] = count
        poll["total_voter_count"] = sum(counts) if voters is None else voters
        self.updates.append({"update_id": 9000 + len(self.updates), "poll": json.loads(json.dumps(poll))})

    async def m_stopPoll(self, body):
        message = self.messages.get(int(body["message_id"]))
        if message is None or message["kind"] != "poll":
            return web.json_response({"ok": False, "error_code": 400, "description": "Bad Request: message with poll "
                                      "to stop not found"}, status=400)
        if message["poll"]["is_closed"]:
            return web.json_response({"ok": False, "error_code": 400, "description": "Bad Request: poll has already "
                                      "been closed"}, status=400)
        message["poll"]["is_closed"] = True
        self.stopped.append(int(body["message_id"]))
        return self._ok(message["poll"])

    async def m_getUpdates(self, body):
        offset = int(body.get("offset") or 0)
        return self._ok([u for u in self.updates if u["update_id"] >= offset])

    async def m_getMe(self, body):
        return self._ok({"id": 123, "is_bot": True, "username": "stadt_bot"})


def telegram_comment(update_id: int, channel_message_id: int, user_id: int, text: str, group=-1001) -> dict:
    return {"update_id": update_id, "message": {
        "message_id": 900 + update_id, "date": 1795305355, "chat": {"id": group, "type": "supergroup"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Anna"}, "text": text,
        "reply_to_message": {"message_id": 800, "is_automatic_forward": True, "chat": {"id": group},
                             "forward_origin": {"type": "channel", "message_id": channel_message_id}}}}
