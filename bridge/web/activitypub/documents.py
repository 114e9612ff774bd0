"""ActivityPub documents: WebFinger, host-meta, NodeInfo, actors, outbox, collections and notes.

Collections of people (followers, following) publish counts only: nobody can list the citizens who
follow the authority. Documents are rendered once per version of their account (`bridge.web.readcache`);
counts of posts come from the maintained versions, never from counting rows per request.
"""

from __future__ import annotations

import json

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub import documents, vocab
from activitypub.actors import instance_actor_document
from activitypub.documents import ResourceRejected
from activitypub.uris import INSTANCE_ACTOR_NAME, Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.convert.activitypub import actor_to_document, post_to_note
from bridge.convert.mastodon import MASTODON_API_VERSION
from bridge.store.models import Actor, Post, PostState
from bridge.store.versions import INSTANCE
from bridge.web.readcache import Depends, answer, snapshot
from bridge.web.public.pages import prefers_activity_json
from bridge.web.public.views import int_cursor
from consent.followers import count_followers

AP_TYPE = "application/activity+json"
PAGE_SIZE = 20  # as Mastodon's outbox
VERSION = "0.1.0"


def wants_activitypub(request: web.Request) -> bool:
    return prefers_activity_json(request.headers.get("Accept", ""))


def ap_response(document: dict, status: int = 200, cache: str = "public, max-age=180") -> web.Response:
    return web.Response(body=json.dumps(document, ensure_ascii=False).encode(), status=status,
                        content_type=AP_TYPE, charset="utf-8",
                        headers={"Cache-Control": cache, "Vary": "Accept",
                                 "Access-Control-Allow-Origin": "*"})


def document_cache(request: web.Request) -> str:
    return f"public, max-age={request.app[CONFIG].cache.document_seconds}"


def page_cache(request: web.Request) -> str:
    return f"public, max-age={request.app[CONFIG].cache.page_seconds}"


def _uris(request: web.Request) -> Uris:
    return Uris.for_base(request.app[CONFIG].instance.base_url)


async def webfinger(request: web.Request) -> web.Response:
    config, uris = request.app[CONFIG], _uris(request)
    parsed = documents.parse_resource(request.query.get("resource"), uris)
    if isinstance(parsed, ResourceRejected):
        return web.json_response({"error": str(parsed.reason)}, status=parsed.status)
    if parsed.name != INSTANCE_ACTOR_NAME and config.actor(parsed.name) is None:
        return web.json_response({"error": "unknown_account"}, status=404)

    async def render() -> web.Response:  # from the configuration alone: no version to depend on
        return web.json_response(documents.webfinger(uris, parsed.name), content_type="application/jrd+json",
                                 headers={"Access-Control-Allow-Origin": "*", "Cache-Control": document_cache(request)})
    return await answer(request, ("webfinger", parsed.name), Depends(), render)


async def host_meta(request: web.Request) -> web.Response:
    return web.Response(text=documents.host_meta(_uris(request)), content_type="application/xrd+xml",
                        headers={"Access-Control-Allow-Origin": "*"})


async def nodeinfo_discovery(request: web.Request) -> web.Response:
    return web.json_response(documents.nodeinfo_discovery(_uris(request)),
                             headers={"Access-Control-Allow-Origin": "*"})


async def nodeinfo(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]

    async def render() -> web.Response:
        posts = (await snapshot(request)).posts.get(INSTANCE, 0)
        accounts = len(config.actors)
        usage = documents.Usage(accounts, accounts, accounts, posts)
        # `upstream` names the client API this server speaks: Whalebird (megalodon's `detector`) recognises a
        # Mastodon-compatible server by it, as it does for Mastodon's forks.
        body = documents.nodeinfo(VERSION, usage, node_name=config.instance.name,
                                  metadata={"upstream": {"name": "mastodon", "version": MASTODON_API_VERSION}})
        return web.json_response(body, content_type="application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
                                 headers={"Access-Control-Allow-Origin": "*", "Cache-Control": document_cache(request)})
    return await answer(request, ("nodeinfo",), Depends(instance=True), render)


async def _actor_row(session: AsyncSession, request: web.Request) -> Actor:
    name = request.match_info["name"]
    if name != INSTANCE_ACTOR_NAME and request.app[CONFIG].actor(name) is None:
        raise web.HTTPNotFound()
    actor = await session.scalar(select(Actor).where(Actor.name == name))
    if actor is None:
        raise web.HTTPNotFound()
    return actor


async def actor(request: web.Request) -> web.StreamResponse:
    config, uris, name = request.app[CONFIG], _uris(request), request.match_info["name"]
    if name != INSTANCE_ACTOR_NAME and not wants_activitypub(request):
        if config.actor(name) is None:
            raise web.HTTPNotFound()
        raise web.HTTPFound(uris.profile(name))

    async def render() -> web.Response:
        async with request.app[SESSIONS]() as session:
            row = await _actor_row(session, request)
        if row.name == INSTANCE_ACTOR_NAME:
            return ap_response(instance_actor_document(uris, row.public_key_pem, row.created_at),
                               cache=document_cache(request))
        return ap_response(actor_to_document(row, config.actor(row.name), config, uris), cache=document_cache(request))
    return await answer(request, ("actor", name), Depends(account=name), render)


def _published(actor_id: int):
    return select(Post).where(Post.actor_id == actor_id, Post.state == PostState.PUBLISHED)


async def outbox(request: web.Request) -> web.StreamResponse:
    config, uris, name = request.app[CONFIG], _uris(request), request.match_info["name"]
    max_id, min_id = int_cursor(request.query.get("max_id")), _min_cursor(request.query.get("min_id"))

    async def render() -> web.Response:
        if "page" not in request.query:
            known = await snapshot(request)
            if config.actor(name) is None or name not in known.accounts:
                raise web.HTTPNotFound()
            total = known.posts.get(known.accounts[name], 0)  # maintained: no count(*) over the posts
            return ap_response(vocab.ordered_collection(
                uris.outbox(name), total, first=uris.outbox_page(name),
                last=uris.outbox_page(name, min_id="0")), cache=page_cache(request))
        async with request.app[SESSIONS]() as session:
            row = await _actor_row(session, request)
            posts = await _page(session, row.id, max_id, min_id)
            notes = [vocab.create(uris, row.name, str(p.id), post_to_note(p, config, uris)) for p in posts]
        return ap_response(_outbox_page(request, uris, row.name, posts, notes), cache=page_cache(request))
    key = ("outbox", name, request.path_qs)  # the page's id is its URL
    return await answer(request, key, Depends(account=name), render)


def _min_cursor(value: str | None) -> int | None:
    return 0 if value == "0" else int_cursor(value)  # min_id=0 is the collection's `last` (oldest) page


async def _page(session: AsyncSession, actor_id: int, max_id: int | None, min_id: int | None) -> list[Post]:
    """A page below `max_id` or above `min_id`; a cursor that is no plausible id (as public pages) is ignored."""
    query = _published(actor_id)
    if max_id is not None:
        query = query.where(Post.id < max_id)
    if min_id is not None:
        # Mastodon's min_id pages walk upwards from the given id, shown newest first.
        rows = (await session.scalars(query.where(Post.id > min_id).order_by(Post.id).limit(PAGE_SIZE))).all()
        return sorted(rows, key=lambda p: p.id, reverse=True)
    return list((await session.scalars(query.order_by(Post.id.desc()).limit(PAGE_SIZE))).all())


def _outbox_page(request: web.Request, uris: Uris, name: str, posts: list[Post], notes: list[dict]) -> dict:
    page_id = uris.url(request.path_qs)
    next_page = uris.outbox_page(name, max_id=str(posts[-1].id)) if len(posts) == PAGE_SIZE else None
    prev_page = uris.outbox_page(name, min_id=str(posts[0].id)) if posts else None
    return vocab.ordered_collection_page(page_id, uris.outbox(name), notes, next_page=next_page,
                                         prev_page=prev_page)


async def followers(request: web.Request) -> web.StreamResponse:
    uris, name = _uris(request), request.match_info["name"]

    async def render() -> web.Response:  # counted once per change of the followers, not per request
        async with request.app[SESSIONS]() as session:
            row = await _actor_row(session, request)
            total = await count_followers(session, row.name)
        return ap_response(vocab.ordered_collection(uris.followers(row.name), total))
    return await answer(request, ("followers", name), Depends(account=name, followers=True), render)


async def following(request: web.Request) -> web.Response:
    uris = _uris(request)
    async with request.app[SESSIONS]() as session:
        row = await _actor_row(session, request)
    return ap_response(vocab.ordered_collection(uris.following(row.name), 0))


async def featured(request: web.Request) -> web.StreamResponse:
    config, uris, name = request.app[CONFIG], _uris(request), request.match_info["name"]

    async def render() -> web.Response:
        async with request.app[SESSIONS]() as session:
            row = await _actor_row(session, request)
            posts = (await session.scalars(_published(row.id).where(Post.pinned.is_(True))
                                           .order_by(Post.id.desc()).limit(PAGE_SIZE))).all()
            notes = [post_to_note(p, config, uris) for p in posts]
        items = [{k: v for k, v in n.items() if k != "@context"} for n in notes]
        return ap_response(vocab.ordered_collection(uris.featured(row.name), len(items), items=items),
                           cache=page_cache(request))
    return await answer(request, ("featured", name), Depends(account=name), render)


async def note_response(request: web.Request, name: str, post_id: str) -> web.StreamResponse:
    """The Note of a published post, 410 with a Tombstone for a deleted one, else 404.
    Public permalinks call this when the client asks for ActivityPub."""
    config, uris = request.app[CONFIG], _uris(request)
    number = int_cursor(post_id)  # an id beyond 64 bits would overflow the database's integer
    if number is None or config.actor(name) is None:
        raise web.HTTPNotFound()

    async def render() -> web.Response:
        async with request.app[SESSIONS]() as session:
            post = await session.get(Post, number)
            if post is None or post.actor.name != name:
                raise web.HTTPNotFound()
            if post.state == PostState.DELETED:
                tombstone = vocab.tombstone(uris.note(name, post_id), deleted=post.deleted_at)
                return ap_response(vocab.with_context(tombstone), status=410, cache=page_cache(request))
            if post.state != PostState.PUBLISHED:
                raise web.HTTPNotFound()
            return ap_response(post_to_note(post, config, uris), cache=page_cache(request))
    return await answer(request, ("note", name, number), Depends(account=name), render)


async def note(request: web.Request) -> web.Response:
    name, post_id = request.match_info["name"], request.match_info["id"]
    if not wants_activitypub(request):
        raise web.HTTPFound(_uris(request).permalink(name, post_id))
    return await note_response(request, name, post_id)


async def create_activity(request: web.Request) -> web.Response:
    name, post_id = request.match_info["name"], request.match_info["id"]
    response = await note_response(request, name, post_id)
    if response.status != 200:
        return response
    uris = _uris(request)
    document = vocab.create(uris, name, post_id, json.loads(response.body))
    return ap_response(document)


def setup(app: web.Application) -> None:
    app.router.add_get("/.well-known/webfinger", webfinger, name="webfinger")
    app.router.add_get("/.well-known/host-meta", host_meta)
    app.router.add_get("/.well-known/nodeinfo", nodeinfo_discovery)
    app.router.add_get("/nodeinfo/2.1", nodeinfo)
    app.router.add_get("/users/{name}", actor, name="ap_actor")
    app.router.add_get("/users/{name}/outbox", outbox)
    app.router.add_get("/users/{name}/followers", followers)
    app.router.add_get("/users/{name}/following", following)
    app.router.add_get("/users/{name}/collections/featured", featured)
    app.router.add_get("/users/{name}/statuses/{id}", note, name="ap_note")
    app.router.add_get("/users/{name}/statuses/{id}/activity", create_activity)
