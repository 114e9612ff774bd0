"""The route walk (issue 16, systematic guards): every route of the app's router, for every role, with real ids
from a seeded instance and with garbage ones, must answer without a 5xx.

Routes are enumerated from `app.router`, so a new route is walked without editing this test; a segment this
test does not know gets garbage values only. All failures are collected, so one run shows them all, each with
the exception the server logged."""

from __future__ import annotations

import json
import logging
import re
import warnings
from datetime import date, datetime, timezone

import aiohttp
import pytest
from sqlalchemy import update
from yarl import URL

from bridge.appkeys import CONFIG, SESSIONS
from bridge.auth.tokens import create_token
from bridge.publishing import posts
from bridge.publishing.posts import Draft
from bridge.publishing.uploads import upload_image
from bridge.store.models import ApiToken, User
from consent.requests import RequestKind, open_request
from fakes.fediverse import FakeInstance
from support.inbox import instances, mastodon, network, stadt  # noqa: F401
from support.mirroring import PLATFORMS
from support.moderation import replied
from support.public import png
from support.web import Visitor, admin_ready, make_user, signed_in, visitors  # noqa: F401

HOMES = (("editor", "/editor/compose"), ("admin", "/admin/users"), ("dpo", "/dpo/audit"))
ROLES = ("anonymous", "dpo", "editor", "admin")  # admin last: its posts may disable or reset the others
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Garbage for a segment: huge and non-ASCII digits, a NUL, bytes that are no UTF-8, a lone surrogate's UTF-8.
GARBAGE = ("9" * 19, "9" * 27, "%C2%B2", "%00", "%ff%fe", "%ED%A0%80", "..%2F..%2Fetc")
# No NUL here: it is refused before any handler (tested apart), and the other values must reach the handlers.
HOSTILE_QUERY = ("?page=true&max_id=" + "9" * 27 + "&min_id=%C2%B2&since_id=-1&limit=99999999999999999999"
                 "&q=%E2%80%AE%ff&resource=acct:%ff@x&kind=%ED%A0%80&offset=-5&before=9999-12-31&year=0"
                 "&instance=%5B::1%5D&identifier=&notice=%25s&page=-1&tag=%23")
GARBAGE_FIELDS = [("text", "\u202e" * 3 + "x" * 70_000), ("actor", "../../stadt"), ("kind", "☃"),
                  ("post_id", "9" * 30), ("publish_at", "0001-01-01T00:00"), ("received", "9999-99-99"),
                  ("identifier", "acct:%@@"), ("state", "\ufeff"), ("name", "a" * 500), ("role", "root"),
                  ("domain", "[::1]:x"), ("seen", "zz"), ("image0", "not a file"), ("mirrors", "nope"),
                  ("password", ""), ("language", "xx-" * 40), ("next", "//evil.example/"), ("token", "%")]
# 5xx whose fix lies outside this branch's files (issue 16): (part of the path and body, the exception) —
# reported as warnings, tolerated until the fix is merged; then delete the entry.
KNOWN_ELSEWHERE: list[tuple[str, str]] = []  # (where, exception) of a 5xx whose fix is under way elsewhere
GARBAGE_JSON = {"status": "", "media_ids": ["1", {"a": []}], "scheduled_at": "0001-01-01T00:00:00",
                "visibility": None, "poll": {"options": [1] * 50}, "sensitive": "maybe", "language": ["de"]}
RAW_GARBAGE = (b"\xff\xfe\x00garbage--\r\n--", "multipart/form-data; boundary=zz")


@pytest.fixture
def config(make_config):
    return make_config(platforms=PLATFORMS)  # the mirror pages and forms exist only with platforms


class Seed:
    """Real ids for each kind of path segment, gathered from a seeded instance."""

    def __init__(self):
        self.values: dict[str, list[str]] = {"name": ["stadt", "feuerwehr"], "actor": ["stadt", "feuerwehr"],
                                             "kind": ["rss", "atom", "json"], "tag": ["stadt"],
                                             "platform": ["bsky"]}
        self.users: dict[str, int] = {}
        self.bearer = ""  # an API token of the editor's, sent by every signed-in role to /api/ routes
        self.fields: list[tuple[str, str]] = []  # plausible form fields: the identifier of a real citizen, …

    def add(self, segment: str, value) -> None:
        self.values.setdefault(segment, []).append(str(value))

    def candidates(self, segment: str) -> list[str]:
        return self.values.get(segment, []) + list(GARBAGE)


async def seed_instance(stadt, mastodon: FakeInstance) -> Seed:
    sessions, config = stadt.app[SESSIONS], stadt.app[CONFIG]
    seed = Seed()
    seed.users["admin"] = await admin_ready(sessions)
    seed.users["editor"], _ = await make_user(sessions, "erika", "editor", ("stadt", "feuerwehr"))
    seed.users["dpo"], _ = await make_user(sessions, "dora", "dpo", ())
    post_id, citizen, _, reply_id = await replied(stadt, mastodon)  # a published post and a citizen's reply
    seed.fields = [("identifier", citizen.uri), ("kind", "access"), ("received", date.today().isoformat()),
                   ("text", "Hallo"), ("actor", "stadt"), ("domain", "mastodon.test"), ("state", "hidden"),
                   ("language", "de"), ("name", "neu"), ("role", "editor"), ("actors", "stadt")]
    seed.add("post_id", post_id), seed.add("id", post_id), seed.add("reply_id", reply_id)
    async with sessions.begin() as session:
        editor = await session.get(User, seed.users["editor"])
        image = await upload_image(session, config, editor, "stadt", png(), alt="Ein rotes Rechteck")
        with_image = await posts.create_post(session, config, editor, Draft(
            "stadt", "Mit Bild #stadt", media_ids=(image.media.id,), mirrors=("bsky",)))
        waiting = await posts.create_post(session, config, editor, Draft("feuerwehr", "Wartet auf Freigabe"))
        token = await create_token(session, "erika", "stadt")
        request = await open_request(session, RequestKind.ACCESS, None, datetime.now(timezone.utc))
        await session.flush()
        for post in (with_image.post, waiting.post):
            seed.add("post_id", post.id), seed.add("id", post.id)
        seed.add("filename", image.media.filename)
        seed.add("user_id", seed.users["editor"]), seed.add("user_id", seed.users["admin"])
        seed.add("token_id", token.token.id)
        seed.bearer = token.secret
        seed.add("request_id", request.id)
    return seed


def routes(app) -> list[tuple[str, str, dict[str, str]]]:
    """(method, canonical path, segment patterns) of every route but static files and HEAD (GET's twin)."""
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if route.method == "HEAD" or "directory" in info:
            continue
        found.append((route.method, route.resource.canonical, info))
    return found


def paths(canonical: str, info: dict, seed: Seed) -> list[str]:
    """The route's path with its dynamic segments filled from the seed, then one segment at a time with each
    other value (garbage included); only paths the route's own pattern matches are kept (others never reach
    a handler: the router answers 404)."""
    segments = re.findall(r"\{(\w+)\}", canonical)
    base = {s: seed.candidates(s)[0] for s in segments}
    fillings = [base] + [{**base, s: value} for s in segments for value in seed.candidates(s)[1:]]
    pattern = info.get("pattern")
    found = []
    for filling in fillings:
        path = canonical
        for segment, value in filling.items():
            path = path.replace("{" + segment + "}", value, 1)
        decoded = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), path)
        if path not in found and (pattern is None or pattern.fullmatch(decoded)):
            found.append(path)
    return found


class Walk:
    def __init__(self, stadt, caplog, seed: Seed):
        self.stadt, self.caplog, self.seed = stadt, caplog, seed
        self.failures: list[str] = []
        self.answers = 0
        self.seen: dict[tuple[str, str], int] = {}  # (role, path) → status of the plain GET
        self.past_csrf: set[tuple[str, str]] = set()  # garbage forms the CSRF check let through to a handler
        self.past_token: set[tuple[str, str, str]] = set()  # API requests the token check let through

    def check(self, role: str, method: str, path: str, status: int, what: str = "") -> None:
        self.answers += 1
        if method == "GET" and not what:
            self.seen[(role, path)] = status
        if method != "GET" and what == "garbage fields" and status != 403:
            self.past_csrf.add((role, path))
        if path.startswith("/api/") and status not in (401, 403):
            self.past_token.add((role, method, path))
        if status >= 500 and not (path == "/readyz" and status == 503):  # "not ready" is that probe's answer
            logged = [r for r in self.caplog.records if r.exc_info]
            cause = f"{logged[-1].exc_info[0].__name__}: {logged[-1].exc_info[1]}"[:200] if logged else "-"
            self.failures.append(f"{role:9} {method} {path[:90]} {what} -> {status} ({cause})")
        self.caplog.clear()


async def browser(role: str, stadt, visitors, seed: Seed) -> Visitor:
    """A fresh browser for `role` (a post before may have signed it out, disabled or reset it, or revoked the
    API token)."""
    visitor = visitors(stadt)
    if role == "anonymous":
        await visitor.get("/signin")  # the anonymous form token
        return visitor
    async with stadt.app[SESSIONS].begin() as session:
        await session.execute(update(User).values(disabled=False, must_change_password=False))
        await session.execute(update(ApiToken).values(revoked_at=None))
    return await signed_in(visitor, stadt.app[SESSIONS], seed.users[role])


def url(stadt, path: str) -> URL:
    """The path exactly as written: percent escapes reach the server as a hostile client sends them."""
    return URL(f"http://{stadt.host}:{stadt.port}{path}", encoded=True)


def credentials(walk: Walk, role: str, path: str) -> dict[str, str]:
    """API routes see a token from the signed-in roles, so their handlers (not only the check) get garbage."""
    if role == "anonymous" or not path.startswith("/api/"):
        return {}
    return {"Authorization": f"Bearer {walk.seed.bearer}"}


async def visit(walk: Walk, visitor: Visitor, role: str, path: str) -> None:
    for query, headers in (("", {}), (HOSTILE_QUERY, {"Accept": "application/activity+json"})):
        async with visitor.session.get(url(walk.stadt, path + query), allow_redirects=False,
                                       headers=headers | credentials(walk, role, path)) as response:
            await response.read()
            walk.check(role, "GET", path, response.status, "+ hostile query" if query else "")


async def send(walk: Walk, visitor: Visitor, role: str, method: str, path: str) -> None:
    """An empty body, the form token alone, plausible fields, garbage fields (as a plain and as a multipart
    form), garbage bytes and garbage JSON — all but the empty body with a valid form token."""
    garbage = aiohttp.FormData(GARBAGE_FIELDS + [("csrf", visitor.csrf)])
    multipart = aiohttp.FormData(GARBAGE_FIELDS + [("csrf", visitor.csrf)])  # as a form with a file input
    multipart.add_field("image0", png(), filename="bild.png", content_type="image/png")
    seeded = aiohttp.FormData(walk.seed.fields + [("csrf", visitor.csrf)])
    bodies = [("empty", None, {}), ("token only", aiohttp.FormData([("csrf", visitor.csrf)]), {}),
              ("seeded fields", seeded, {}),
              ("garbage fields", garbage, {}), ("garbage multipart", multipart, {}),
              ("garbage bytes", RAW_GARBAGE[0], {"Content-Type": RAW_GARBAGE[1]}),
              ("garbage json", json.dumps(dict(GARBAGE_FIELDS) | GARBAGE_JSON | {"csrf": visitor.csrf}),
               {"Content-Type": "application/json"})]
    for what, body, headers in bodies:
        async with visitor.session.request(method, url(walk.stadt, path), data=body,
                                           headers=headers | credentials(walk, role, path),
                                           allow_redirects=False) as response:
            await response.read()
            walk.check(role, method, path, response.status, what)


async def test_no_route_answers_5xx_for_any_role(stadt, mastodon, visitors, caplog):
    caplog.set_level(logging.ERROR, logger="stadtbote")
    seed = await seed_instance(stadt, mastodon)
    walk = Walk(stadt, caplog, seed)
    every = routes(stadt.app)
    for role in ROLES:
        reader = await browser(role, stadt, visitors, seed)  # GETs change nothing: one browser for all
        for method, canonical, info in every:
            if method == "GET":
                for path in paths(canonical, info, seed):
                    await visit(walk, reader, role, path)
        for method, canonical, info in every:
            if method in UNSAFE:
                for path in paths(canonical, info, seed):
                    await send(walk, await browser(role, stadt, visitors, seed), role, method, path)
    # The walk really went in as each role: each one's home answers 200 to it, and not to a stranger.
    assert walk.answers > 1000
    assert len(walk.past_csrf) > 100  # garbage forms reached the handlers, not only the CSRF check
    assert {("editor", "POST", "/api/v1/statuses"), ("admin", "POST", "/api/v2/media")} <= walk.past_token
    assert [walk.seen[(role, home)] for role, home in HOMES] == [200, 200, 200]
    assert [walk.seen[("anonymous", home)] != 200 for _, home in HOMES] == [True, True, True]
    unexpected = [f for f in walk.failures if not any(where in f and error in f for where, error in KNOWN_ELSEWHERE)]
    for tolerated in sorted(set(walk.failures) - set(unexpected)):
        warnings.warn(f"known 5xx, fixed elsewhere: {tolerated}", stacklevel=1)
    assert unexpected == [], f"{len(unexpected)} answers were 5xx:\n" + "\n".join(unexpected)
