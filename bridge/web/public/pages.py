"""Public pages for readers: home, profiles, post permalinks, hashtags; no cookies, no JavaScript.

`/` is the public home page for everyone; signed-in users find their dashboard linked in the footer.
Feeds live in `bridge.web.feeds`, the follow form in `public_follow`, the legal pages in `public_legal`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import select

from bridge.publishing import timeline
from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.store.models import Actor, PostState
from bridge.publishing.timeline import Scope
from bridge.reach.figures import platform_polls
from bridge.store.db import utcnow
from bridge.store.polls import poll_of
from bridge.web.public import feeds, follow as public_follow, legal as public_legal, warnings as public_warnings
from bridge.web.editor import imports as public_imports
from bridge.warnings.lane import warning_of_post
from bridge.web.messages import N_
from bridge.web.public.replies import public_replies
from bridge.web.readcache import Depends, answer
from bridge.web.public.views import (
    ROBOTS_NOINDEX,
    account_feeds,
    date_label,
    int_cursor,
    not_found,
    post_view,
    public_page,
    robots,
    tag_feeds,
    uris_for,
)

NAME = r"{name:[a-z0-9_]{1,30}}"
POST_ID = r"{post_id:\d{1,19}}"
TAG = r"{tag:[^/.]{1,100}}"
ACTIVITY_JSON = ("application/activity+json", "application/ld+json")

# Federation answers permalinks for servers: a handler that returns the Note as AS2 JSON (or None to
# fall back to HTML). Set it with `app[NOTE_RESPONDER] = …` in create_app; `post_permalink` asks it
# whenever the Accept header prefers ActivityPub JSON.
NoteResponder = Callable[[web.Request, str, str], Awaitable[web.StreamResponse | None]]
NOTE_RESPONDER = web.AppKey("note_responder", NoteResponder)


def setup(app: web.Application) -> None:
    app.router.add_get("/", home, name="public_home")
    app.router.add_get(f"/@{NAME}", profile, name="public_profile")
    app.router.add_get(f"/@{NAME}/{POST_ID}", post_permalink, name="post_permalink")
    app.router.add_get(f"/tags/{TAG}", tag_page, name="public_tag")
    feeds.setup(app)
    public_follow.setup(app)
    public_legal.setup(app)
    public_imports.setup(app)
    public_warnings.setup(app)


async def home(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    uris = uris_for(request)
    accounts = [(a, uris.profile(a.name), f"{a.name}@{uris.host}") for a in config.actors]

    async def render() -> web.Response:  # any account's change (a profile edited in the database) may show here
        return public_page(request, "public_home.html", {"accounts": accounts, "canonical": uris.url("/")})
    return await answer(request, ("home",), Depends(instance=True), render)


async def profile(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    name = request.match_info["name"]
    actor_config = config.actor(name)
    if actor_config is None:
        return not_found(request, N_("There is no account with this name here."))
    uris = uris_for(request)
    max_id, min_id = int_cursor(request.query.get("max_id")), int_cursor(request.query.get("min_id"))

    async def render() -> web.Response:
        async with request.app[SESSIONS]() as session:
            actor_id = await session.scalar(select(Actor.id).where(Actor.name == name))
            if actor_id is None:
                return not_found(request, N_("There is no account with this name here."))
            page = await timeline.page(session, Scope.account(actor_id), max_id=max_id, min_id=min_id)
        context = {
            "account": actor_config, "acct": f"{name}@{uris.host}", "profile_url": uris.profile(name),
            "actor_uri": uris.actor(name), "posts": [post_view(p, config, uris) for p in page.posts],
            "older": page.older_max_id, "newer": page.newer_min_id, "feeds": account_feeds(actor_config, uris),
            "robots": robots(actor_config) if max_id is None and min_id is None else ROBOTS_NOINDEX,
            "canonical": uris.profile(name),
        }
        return public_page(request, "public_profile.html", context)
    return await answer(request, ("profile", name, max_id, min_id), Depends(account=name), render)


async def post_permalink(request: web.Request) -> web.StreamResponse:
    """The post's one URL for people and (once federation sets NOTE_RESPONDER) for servers."""
    name, post_id = request.match_info["name"], int_cursor(request.match_info["post_id"])
    if post_id is None:  # 19 digits may still overflow the database's 64-bit integer
        return not_found(request, N_("This post does not exist, or it is not public."))
    responder = request.app.get(NOTE_RESPONDER)
    if responder is not None and prefers_activity_json(request.headers.get("Accept", "")):
        note = await responder(request, name, str(post_id))
        if note is not None:
            note.headers["Vary"] = "Accept"
            return note

    async def render() -> web.Response:
        response = await post_page(request, name, post_id)
        response.headers["Vary"] = "Accept"  # caches must not hand the HTML to a server, or the JSON to a browser
        return response
    return await answer(request, ("post", name, post_id), Depends(account=name, replies=True), render)


def prefers_activity_json(accept: str) -> bool:
    """ActivityPub servers ask for AS2 JSON; browsers ask for text/html (and */* at low priority)."""
    wanted = [part.split(";", 1)[0].strip().lower() for part in accept.split(",")]
    return any(t in ACTIVITY_JSON for t in wanted) and "text/html" not in wanted


async def post_page(request: web.Request, name: str, post_id: int) -> web.Response:
    config = request.app[CONFIG]
    actor_config = config.actor(name)
    async with request.app[SESSIONS]() as session:
        post = await timeline.find_post(session, name, post_id)
        published = post is not None and post.state == PostState.PUBLISHED
        shown = await public_replies(session, request.app[FEDERATION].vault, config, post_id) if published else []
        warning = await warning_of_post(session, post_id) if published else None
        poll = await poll_of(session, post) if published else None
        platform_votes = await platform_polls(session, config, poll, utcnow()) if poll is not None else ()
    if post is None or actor_config is None or post.state not in (PostState.PUBLISHED, PostState.DELETED):
        return not_found(request, N_("This post does not exist, or it is not public."))
    uris = uris_for(request)
    if post.state == PostState.DELETED:
        context = {"account": actor_config, "profile_url": uris.profile(name), "robots": ROBOTS_NOINDEX}
        return public_page(request, "public_410.html", context, status=410)
    view = post_view(post, config, uris)
    context = {
        "account": actor_config, "post": view, "acct": view.acct, "profile_url": uris.profile(name),
        "note_uri": uris.note(name, str(post_id)), "feeds": account_feeds(actor_config, uris),
        "robots": robots(actor_config), "canonical": view.entry.url,
        "share": public_follow.share_links(view.entry.url, view.entry.summary_text), "replies": shown,
        "warning": warning, "warning_url": uris.url(f"/warnings/{warning.id}") if warning else None,
        "platform_polls": [(p, date_label(p.fetched_at, config)) for p in platform_votes],
    }
    response = public_page(request, "public_post.html", context)
    if shown:  # a shown reply may be withdrawn at any moment: caches must ask again every time
        response.headers["Cache-Control"] = "no-cache"
    return response


async def tag_page(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    scope = Scope.hashtag(request.match_info["tag"])
    if not scope.tag:
        return not_found(request, N_("This is not a hashtag."))
    uris = uris_for(request)
    max_id, min_id = int_cursor(request.query.get("max_id")), int_cursor(request.query.get("min_id"))

    async def render() -> web.Response:
        async with request.app[SESSIONS]() as session:
            page = await timeline.page(session, scope, max_id=max_id, min_id=min_id)
        context = {
            "tag": scope.tag, "posts": [post_view(p, config, uris) for p in page.posts],
            "older": page.older_max_id, "newer": page.newer_min_id, "feeds": tag_feeds(scope.tag, uris),
            "canonical": uris.tag(scope.tag),
            # A hashtag page with nothing on it, or a later page, is not worth a search engine's index.
            "robots": ROBOTS_NOINDEX if not page.posts or max_id or min_id else "index, follow",
        }
        return public_page(request, "public_tag.html", context)
    return await answer(request, ("tag", scope.tag, max_id, min_id), Depends(instance=True), render)
