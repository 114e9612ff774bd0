"""aiohttp fakes of Meta's Graph APIs: a Facebook Page (graph.facebook.com), an Instagram professional
account (graph.instagram.com) and a Threads profile (graph.threads.net). They implement the documented
endpoints the connectors use (Page videos; video containers that stay IN_PROGRESS for a number of status
checks and may end in ERROR with a reason), the Graph error shape, throttling with the usage headers, an
expired token (code 190), a timeout after the write happened and a 500 after the write. Each records what it was sent;
`mode` switches one behaviour on for the next write (publish/feed)."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time

from aiohttp import web

from fakes.platform_servers import SLOW, Fake, OAuthConsent

IDS = itertools.count(17_000_000_001)


def graph_error(status: int, code: int, message: str, subcode: int | None = None, headers=None) -> web.Response:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode:
        error["error_subcode"] = subcode
    return web.json_response({"error": error}, status=status, headers=headers)


def throttled() -> web.Response:
    usage = {"112233": [{"type": "pages", "call_count": 100, "total_cputime": 20, "total_time": 30,
                         "estimated_time_to_regain_access": 17}]}
    return graph_error(400, 80001, "There have been too many calls to this Page account.",
                       headers={"X-Business-Use-Case-Usage": json.dumps(usage)})


class FakeGraph(Fake):
    """Routing, token check and modes shared by the three Graph fakes."""

    version = "v25.0"

    def __init__(self, token: str) -> None:
        super().__init__()
        self.tokens = {token}
        self.user_tokens: set[str] = set()  # a person's token: reads the Page's token, posts nothing here
        self.objects: dict[str, dict] = {}
        self.metrics: dict[str, dict] = {}  # the Graph's counter fields of an object, as read back with it
        self.refreshed = 0
        self.comments: dict[str, list[dict]] = {}
        self.comment_replies: dict[str, list[dict]] = {}  # what we wrote under a comment, by comment id

    def reply_to_comment(self, comment: str, form) -> dict:
        """`POST /{comment-id}/comments` (Facebook) or `/{ig-comment-id}/replies` (Instagram): a reply with
        `message`, to a comment that exists."""
        reply = {"id": f"{comment}_r{next(IDS)}", "message": form.get("message")}
        self.comment_replies.setdefault(comment, []).append(reply)
        return {"id": reply["id"]}

    def known_comment(self, comment: str) -> bool:
        return any(c.get("id") == comment for items in self.comments.values() for c in items)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=10 * 1024 * 1024)  # a Page photo may have 10 MB (aiohttp: 1 MB)
        app.router.add_get("/refresh_access_token", self.refresh)
        self.add_sign_in(app)
        app.router.add_route("*", f"/{self.version}/{{path:.*}}", self.dispatch)
        return app

    def add_sign_in(self, app: web.Application) -> None:
        """Routes of the platform's OAuth sign-in, before the Graph's catch-all (none by default)."""

    async def refresh(self, request):
        if request.query.get("access_token") not in self.tokens:
            return graph_error(400, 190, "Invalid OAuth access token.")
        self.refreshed += 1
        token = f"refreshed-{self.refreshed}"
        self.tokens.add(token)
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": 5_184_000})

    async def dispatch(self, request):
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens | self.user_tokens:
            return graph_error(400, 190, "Error validating access token: Session has expired.", 463)
        parts = request.match_info["path"].strip("/").split("/")
        form = dict(await request.post()) if request.method == "POST" else {}
        self.calls.append(f"{request.method} {'/'.join(parts)}")
        handler = getattr(self, f"{request.method.lower()}_{len(parts)}", None)
        return await handler(request, parts, form) if handler else graph_error(400, 100, "Unsupported request")

    async def written(self, make) -> web.Response:
        """A write under the current mode: throttled, refused, or done (and maybe slow or 500 afterwards)."""
        mode = self.take_mode()
        if mode == "429":
            return throttled()
        if mode == "expired":
            return graph_error(400, 190, "Error validating access token: Session has expired.", 463)
        if mode == "rejected":
            return graph_error(400, 100, "Invalid parameter")
        result = make()
        if mode == "timeout_after_write":
            await asyncio.sleep(SLOW)
        if mode == "500_after_write":
            return graph_error(500, 2, "An unexpected error has occurred. Please retry your request later.")
        return web.json_response(result)

    def comments_page(self, object_id: str, request) -> web.Response:
        items = self.comments.get(object_id, [])
        start = int(request.query.get("after") or 0)
        page = items[start:start + 2]  # small pages, so that the connectors follow the cursors
        paging = {"cursors": {"after": str(start + 2)}, "next": "…"} if start + 2 < len(items) else {}
        return web.json_response({"data": page, "paging": paging})

    async def get_1(self, request, parts, form):
        found = self.objects.get(parts[0])
        if found is None:
            return graph_error(400, 100, "Unsupported get request. Object does not exist.", 33)
        return web.json_response({**found, **self.metrics.get(parts[0], {})})


class FakeFacebook(FakeGraph):
    def __init__(self, page="112233", token="page-token", ig_user="") -> None:
        super().__init__(token)
        self.page = page
        self.posts: dict[str, dict] = {}
        self.photos: dict[str, dict] = {}
        self.videos: dict[str, dict] = {}  # Page videos by video id, as `POST /{page-id}/videos` made them
        self.refuse_captions = False  # set: `POST /{video-id}/captions` answers "Invalid captions file"
        self.objects[page] = {"id": page, "name": "Stadt Musterstadt"}
        self.page_token = token
        self.ig_user = ig_user  # set: the Page is linked to this Instagram professional account (Facebook Login)
        if ig_user:
            self.objects[ig_user] = {"id": ig_user, "username": "stadt"}
        self.short_tokens: set[str] = set()  # from the code; only good for the exchange below
        self.long_lived_asked: list[dict] = []
        self.consent = OAuthConsent(self._granted)  # Facebook Login: a user token, which asks for the Page's

    def add_sign_in(self, app: web.Application) -> None:
        self.consent.add_routes(app, f"/{self.version}/dialog/oauth", f"/{self.version}/oauth/access_token")
        app.router.add_get(f"/{self.version}/oauth/access_token", self.long_lived)

    def _granted(self) -> dict:
        user_token = f"user-token-{len(self.consent.exchanged)}"
        self.short_tokens.add(user_token)
        return {"access_token": user_token, "token_type": "bearer", "expires_in": 3600}

    async def long_lived(self, request):
        """`GET /oauth/access_token?grant_type=fb_exchange_token`: a short-lived user token for a 60-day one."""
        query = dict(request.query)
        self.long_lived_asked.append(query)
        if (query.get("grant_type") != "fb_exchange_token" or query.get("fb_exchange_token") not in self.short_tokens
                or not query.get("client_id") or not query.get("client_secret")):
            return graph_error(400, 190, "Invalid OAuth access token.")
        user_token = f"long-user-token-{len(self.long_lived_asked)}"
        self.user_tokens.add(user_token)
        return web.json_response({"access_token": user_token, "token_type": "bearer", "expires_in": 5_184_000})

    async def get_1(self, request, parts, form):
        if parts == [self.page] and request.query.get("fields") == "access_token":
            return web.json_response({"id": self.page, "access_token": self.page_token})
        if parts[0] in self.posts:
            return web.json_response({"id": parts[0], **self.metrics.get(parts[0], {})})
        return await super().get_1(request, parts, form)

    async def get_2(self, request, parts, form):
        if parts == ["me", "accounts"]:  # the Pages the signed-in person manages, with a linked Instagram account
            linked = {"instagram_business_account": {"id": self.ig_user, "username": "stadt"}} if self.ig_user else {}
            return web.json_response({"data": [
                {"id": "998877", "name": "Verein ohne Instagram", "access_token": "other-page-token"},
                {"id": self.page, "name": "Stadt Musterstadt", "access_token": self.page_token, **linked}]})
        if parts == [self.page, "posts"]:
            return web.json_response({"data": list(reversed(self.posts.values()))})
        if parts[1] == "comments":
            return self.comments_page(parts[0], request)
        if parts[1] == "captions" and parts[0] in self.videos:
            track = self.videos[parts[0]].get("captions")
            return web.json_response({"data": [{"locale": track["locale"]}] if track else [], "paging": {}})
        return graph_error(400, 100, "Unsupported get request")

    async def post_2(self, request, parts, form):
        if parts == [self.page, "photos"]:
            photo = str(next(IDS))
            self.photos[photo] = {"published": form.get("published"), "alt": form.get("alt_text_custom"),
                                  "size": len(form["source"].file.read())}
            return web.json_response({"id": photo})
        if parts == [self.page, "feed"]:
            return await self.written(lambda: self._create(form))
        if parts == [self.page, "videos"]:
            if not form.get("file_url") and "source" not in form:
                return graph_error(400, 100, "(#100) One of file_url or source must be specified")
            return await self.written(lambda: self._video(form))
        if parts[1] == "comments" and self.known_comment(parts[0]):
            return await self.written(lambda: self.reply_to_comment(parts[0], form))
        if parts[1] == "captions" and parts[0] in self.videos:
            return self._captions(parts[0], form)
        return graph_error(400, 100, "Unsupported post request")

    def _captions(self, video_id: str, form) -> web.Response:
        """`POST /{video-id}/captions`: a SubRip file whose name ends in `.{locale}.srt` (Video Captions edge)."""
        if self.refuse_captions:
            return graph_error(400, 100, "(#100) Invalid captions file")
        upload = form.get("captions_file")
        name = getattr(upload, "filename", "") or ""
        found = re.fullmatch(r".+\.([a-z]{2}_[A-Z]{2})\.srt", name)
        if found is None:
            return graph_error(400, 100, "(#100) The file name must be in the format filename.locale.srt")
        text = upload.file.read().decode("utf-8")
        if not re.match(r"1\r?\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}", text):
            return graph_error(400, 100, "(#100) Invalid captions file")
        self.videos[video_id]["captions"] = {"locale": found.group(1), "default": form.get("default_locale"),
                                             "srt": text}
        return web.json_response({"success": True})

    def _create(self, form) -> dict:
        post_id = f"{self.page}_{next(IDS)}"
        attached = [m["media_fbid"] for m in json.loads(form.get("attached_media") or "[]")]
        self.posts[post_id] = {"id": post_id, "message": form.get("message"), "link": form.get("link"),
                               "attached": attached, "created_time": graph_time()}
        return {"id": post_id}

    def _video(self, form) -> dict:
        """A Page video published at once: Facebook fetches `file_url`; the post lists with the description."""
        video_id = str(next(IDS))
        self.videos[video_id] = {"file_url": form.get("file_url"), "description": form.get("description")}
        self.posts[video_id] = {"id": video_id, "message": form.get("description"), "video": form.get("file_url"),
                                "created_time": graph_time()}
        return {"id": video_id}

    async def post_1(self, request, parts, form):
        post = self.posts.get(parts[0])
        if post is None:
            return graph_error(400, 100, "Unsupported post request. Object does not exist.", 33)
        if "video" in post and "message" in form:
            return graph_error(400, 100, "(#100) Param message is not valid for a video; use description")
        post["message"] = form.get("message", form.get("description"))
        return web.json_response({"success": True})

    async def delete_1(self, request, parts, form):
        if self.posts.pop(parts[0], None) is None:
            return graph_error(400, 100, "Unsupported delete request. Object does not exist.", 33)
        return web.json_response({"success": True})


class FakeContainers(FakeGraph):
    """Instagram and Threads: containers, then publishing them. `status` is what a new container says
    first; "IN_PROGRESS" stays until `finish()` is called."""

    create_edge, publish_edge, status_field, text_field = "media", "media_publish", "status_code", "caption"
    error_field = "status"  # Instagram: the error subcode and text of a container in ERROR

    def __init__(self, user: str, token: str) -> None:
        super().__init__(token)
        self.user = user
        self.containers: dict[str, dict] = {}
        self.media: dict[str, dict] = {}
        self.first_status = "FINISHED"
        self.video_polls = 0  # status checks a video container stays IN_PROGRESS
        self.video_error: str | None = None  # set: video processing ends in ERROR with this reason
        self.video_checks = 0
        self.objects[user] = {"id": user, "username": "stadt"}

    def refused_container(self, form) -> web.Response | None:
        """What Meta refuses when a container is created: a carousel naming an item still being processed."""
        children = [self.containers.get(c) for c in (form.get("children") or "").split(",") if c]
        if any(c is None or c[self.status_field] != "FINISHED" for c in children):
            return graph_error(400, 9007, "Media ID is not available", 2207027)
        return None

    def _processed(self, container: dict) -> None:
        """A video container's status check: after `video_polls` checks it is FINISHED (or ERROR with a reason)."""
        if container.get("polls_left", 0) > 0:
            container["polls_left"] -= 1
            return
        if container[self.status_field] == "IN_PROGRESS":
            container[self.status_field] = "ERROR" if self.video_error else "FINISHED"
            if self.video_error:
                container[self.error_field] = self.video_error

    async def get_1(self, request, parts, form):
        container = self.containers.get(parts[0])
        if container is not None and container.get("video_url"):
            self.video_checks += 1
            self._processed(container)
        return await super().get_1(request, parts, form)

    def finish(self) -> None:
        for container in self.containers.values():
            if container[self.status_field] == "IN_PROGRESS":
                container[self.status_field] = "FINISHED"

    async def post_2(self, request, parts, form):
        if parts == [self.user, self.create_edge]:
            refused = self.refused_container(form)
            if refused is not None:
                return refused
            container = str(next(IDS))
            self.containers[container] = {"id": container, self.status_field: self.first_status, **form}
            if form.get("video_url"):  # the platform fetches and transcodes the video before it may be published
                self.containers[container].update({self.status_field: "IN_PROGRESS", "polls_left": self.video_polls})
            self.objects[container] = self.containers[container]
            return web.json_response({"id": container})
        if parts == [self.user, self.publish_edge]:
            container = self.containers.get(form.get("creation_id", ""))
            if container is None or container[self.status_field] == "IN_PROGRESS":
                return graph_error(400, 9007, "Media ID is not available", 2207027)
            if container[self.status_field] == "PUBLISHED":  # as Meta: a container is published once
                return graph_error(400, 100, "The media has already been published")
            return await self.written(lambda: self._publish(container))
        if parts[1] == "replies" and self.known_comment(parts[0]):
            return await self.written(lambda: self.reply_to_comment(parts[0], form))
        return graph_error(400, 100, "Unsupported post request")

    def _publish(self, container: dict) -> dict:
        container[self.status_field] = "PUBLISHED"
        media_id = str(next(IDS))
        self.media[media_id] = {"id": media_id, self.text_field: container.get(self.text_field),
                                "timestamp": graph_time(), "container": container["id"],
                                "permalink": f"https://{self.host}/p/{media_id}"}
        self.objects[media_id] = self.media[media_id]
        return {"id": media_id}

    async def get_2(self, request, parts, form):
        if parts == [self.user, self.create_edge]:
            return web.json_response({"data": list(reversed(self.media.values()))})
        if parts[1] in ("comments", "conversation", "replies"):
            return self.comments_page(parts[0], request)
        return graph_error(400, 100, "Unsupported get request")


class FakeInstagram(FakeContainers):
    host = "www.instagram.com"

    def __init__(self, user="17841400000000001", token="ig-token") -> None:
        super().__init__(user, token)

    def refused_container(self, form) -> web.Response | None:
        if form.get("media_type") == "VIDEO" and form.get("is_carousel_item") != "true":
            return graph_error(400, 100, "The video media type is no longer supported; use REELS")
        if form.get("media_type") == "REELS" and not form.get("video_url"):
            return graph_error(400, 100, "The parameter video_url is required")
        return super().refused_container(form)


class FakeThreads(FakeContainers):
    host = "www.threads.com"
    version = "v1.0"
    create_edge, publish_edge, status_field, text_field = "threads", "threads_publish", "status", "text"
    error_field = "error_message"

    def __init__(self, user="me", token="threads-token") -> None:
        super().__init__(user, token)
        self.objects.setdefault("me", self.objects[user])  # `GET /me`: the signed-in profile
        # Threads' own sign-in (no Facebook Login): the consent page, the code exchange, the 60-day token.
        self.consent = OAuthConsent(self._granted)
        self.short_tokens: set[str] = set()
        self.long_lived_asked: list[dict] = []
        self.insights: dict[str, dict[str, int]] = {}  # media id -> metric -> lifetime value

    async def get_2(self, request, parts, form):
        """`GET /{media-id}/insights?metric=views,likes,…`: Threads' media insights, each metric as
        {name, period: lifetime, values: [{value}], title, description, id}."""
        if parts[1] != "insights":
            return await super().get_2(request, parts, form)
        if parts[0] not in self.media:
            return graph_error(400, 100, "Unsupported get request. Object does not exist.", 33)
        known = ("views", "likes", "replies", "reposts", "quotes", "shares")
        asked = [m for m in request.query.get("metric", "").split(",") if m]
        if not asked or any(m not in known for m in asked):
            return graph_error(400, 100, "(#100) metric must be one of the following values: " + ", ".join(known))
        counts = self.insights.get(parts[0], {})
        return web.json_response({"data": [
            {"name": m, "period": "lifetime", "values": [{"value": counts.get(m, 0)}], "title": m.title(),
             "description": f"The number of {m} on your post.", "id": f"{parts[0]}/insights/{m}/lifetime"}
            for m in asked]})

    def add_sign_in(self, app: web.Application) -> None:
        self.consent.add_routes(app, "/oauth/authorize", "/oauth/access_token")
        app.router.add_get("/access_token", self.long_lived)

    def _granted(self) -> dict:
        token = f"short-threads-{len(self.consent.exchanged)}"
        self.short_tokens.add(token)
        return {"access_token": token, "user_id": self.user}

    async def long_lived(self, request):
        """`GET /access_token?grant_type=th_exchange_token&client_secret=…&access_token=<short-lived>`."""
        query = dict(request.query)
        self.long_lived_asked.append(query)
        if (query.get("grant_type") != "th_exchange_token" or query.get("access_token") not in self.short_tokens
                or not query.get("client_secret")):
            return graph_error(400, 190, "Invalid OAuth access token.")
        token = f"long-threads-{len(self.long_lived_asked)}"
        self.tokens.add(token)
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": 5_183_944})

    async def delete_1(self, request, parts, form):
        if self.media.pop(parts[0], None) is None:
            return graph_error(400, 100, "Object does not exist", 33)
        return web.json_response({"success": True, "deleted_id": parts[0]})


def graph_time() -> str:
    """Now, as the Graph API writes a post's creation time: the platform's real clock, not the tests' (a fixed
    date made reconciliation miss our own post once that date was more than its slack in the past)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime())


def fb_comment(n: int, text: str, user="9001", hidden=False, with_author=True) -> dict:
    item = {"id": f"c{n}", "message": text, "created_time": "2026-11-23T10:00:00+0000", "is_hidden": hidden,
            "permalink_url": f"https://www.facebook.com/c{n}"}
    if with_author:
        item["from"] = {"id": user, "name": "Anna Beispiel"}
    return item


def ig_comment(n: int, text: str, user="501", hidden=False, replies=()) -> dict:
    return {"id": f"ig{n}", "text": text, "timestamp": "2026-11-23T10:00:00+0000", "username": f"user{user}",
            "hidden": hidden, "from": {"id": user, "username": f"user{user}"}, "replies": {"data": list(replies)}}


def threads_reply(n: int, text: str, username: str | None = "anna", hide_status="NOT_HUSHED") -> dict:
    item = {"id": f"t{n}", "text": text, "timestamp": "2026-11-23T10:00:00+0000", "hide_status": hide_status,
            "is_reply": True}
    if username:
        item.update(username=username, permalink=f"https://www.threads.com/@{username}/post/t{n}")
    return item
