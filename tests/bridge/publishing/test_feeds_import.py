"""Feed import against a local feed server: first poll remembers, later polls post only new items."""

from __future__ import annotations

from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest
from aiohttp import web
from sqlalchemy import select

from bridge.publishing import feedimport
from bridge.app import create_app
from bridge.publishing.feedimport import PollReason
from bridge.store.models import Job, Post, PostState
from bridge.store.feeds import FeedImportState
from bridge.handlers import standard_worker, start_chains
from bridge.queue.context import WorkerContext
from consent.models import AuditEntry
from support.public import editor
from support.web import Visitor, signed_in

START = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def rss(items: list[int], *, broken: bool = False) -> bytes:
    entries = "".join(
        f"<item><title>Pressemitteilung {n}</title><link>https://presse.example/{n}</link>"
        f"<guid>urn:presse:{n}</guid><pubDate>{format_datetime(START + timedelta(days=n))}</pubDate></item>"
        for n in items)
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Presse</title>{entries}</channel></rss>'
    return body[:70].encode() if broken else body.encode()  # cut off before the first item


@pytest.fixture
async def press(aiohttp_server):
    """The press office: `/rss` serves `state["items"]` with an ETag; `mode` breaks it on demand."""
    state = {"items": [1, 2, 3], "mode": "ok", "requests": [], "version": 1}

    async def feed(request: web.Request) -> web.StreamResponse:
        state["requests"].append(dict(request.headers))
        etag = f'"v{state["version"]}"'
        if state["mode"] == "gone":
            return web.Response(status=410)
        if state["mode"] == "huge":
            return web.Response(body=b"<rss>" + b" " * (6 * 1024 * 1024), content_type="application/rss+xml")
        if state["mode"] == "ok" and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        body = rss(state["items"], broken=state["mode"] == "broken")
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})

    app = web.Application()
    app.router.add_get("/rss", feed)
    server = await aiohttp_server(app)
    state["url"] = str(server.make_url("/rss"))
    return state


@pytest.fixture
def import_config(make_config, press):
    def make(backfill: bool = False, url: str | None = None):
        return make_config(actors=[
            {"name": "stadt", "display_name": "Stadt", "import_feed_url": url or press["url"],
             "import_backfill": backfill},
            {"name": "feuerwehr", "display_name": "Feuerwehr", "require_approval": True,
             "import_feed_url": url or press["url"]},
        ])
    return make


async def poll(config, sessions, actor: str = "stadt"):
    async with sessions.begin() as s:
        return await feedimport.poll_job(config, s, {"actor": actor}, None)


async def texts(sessions, state: str | None = None) -> list[str]:
    async with sessions() as s:
        query = select(Post).order_by(Post.id)
        if state:
            query = query.where(Post.state == state)
        return [p.text for p in (await s.scalars(query)).all()]


async def test_the_first_poll_remembers_and_later_polls_post_only_new_items(import_config, booted, sessions_only,
                                                                           press):
    config = import_config()
    first = await poll(config, sessions_only)
    assert first.reason is PollReason.PRIMED and await texts(sessions_only) == []
    press["items"], press["version"] = [1, 2, 3, 4, 5], 2
    second = await poll(config, sessions_only)
    assert second.reason is PollReason.POSTED and second.posted == 2
    assert await texts(sessions_only, PostState.PUBLISHED) == [
        "Pressemitteilung 4 — https://presse.example/4", "Pressemitteilung 5 — https://presse.example/5"]
    assert press["requests"][1]["If-None-Match"] == '"v1"'
    unchanged = await poll(config, sessions_only)
    assert unchanged.reason is PollReason.NOT_MODIFIED and press["requests"][2]["If-None-Match"] == '"v2"'
    async with sessions_only() as s:
        post = await s.scalar(select(Post).order_by(Post.id.desc()))
        audit = (await s.scalars(select(AuditEntry).where(AuditEntry.subject_ref == f"post:{post.id}"))).all()
    assert post.author_id is None
    assert {(a.action, a.actor_ref) for a in audit} == {("post.created", "system:feed-import"),
                                                        ("post.published", "system:feed-import")}


async def test_remembered_items_survive_a_restart(import_config, booted, sessions_only, press):
    await poll(import_config(), sessions_only)
    press["items"], press["version"] = [2, 3, 4], 2
    await poll(import_config(), sessions_only)  # a new config object and new HTTP client: a restart
    press["version"] = 3  # same items, new ETag: nothing is posted twice
    again = await poll(import_config(), sessions_only)
    assert again.reason is PollReason.NOTHING_NEW
    assert await texts(sessions_only) == ["Pressemitteilung 4 — https://presse.example/4"]


async def test_backfill_posts_existing_items_on_the_first_poll(import_config, booted, sessions_only):
    result = await poll(import_config(backfill=True), sessions_only)
    assert result.posted == 3 and len(await texts(sessions_only, PostState.PUBLISHED)) == 3


async def test_an_account_with_four_eyes_gets_imported_posts_awaiting_approval(import_config, booted,
                                                                              sessions_only, press):
    config = import_config()
    await poll(config, sessions_only, "feuerwehr")
    press["items"], press["version"] = [1, 2, 3, 4], 2
    await poll(config, sessions_only, "feuerwehr")
    assert await texts(sessions_only, PostState.AWAITING_APPROVAL) == ["Pressemitteilung 4 — https://presse.example/4"]
    assert await texts(sessions_only, PostState.PUBLISHED) == []


@pytest.mark.parametrize("mode, reason, words", [
    ("broken", PollReason.FEED_BROKEN, "malformed"),
    ("gone", PollReason.HTTP_ERROR, "HTTP 410"),
    ("huge", PollReason.FETCH_FAILED, "too_large"),
])
async def test_a_broken_feed_is_recorded_and_polling_goes_on(import_config, booted, sessions_only, press,
                                                            mode, reason, words):
    config = import_config()
    await poll(config, sessions_only)
    press["mode"], press["version"] = mode, 2
    result = await poll(config, sessions_only)
    assert result.reason is reason and words in result.description
    async with sessions_only() as s:
        state = await s.get(FeedImportState, "stadt")
        queued = (await s.scalars(select(Job).where(Job.kind == feedimport.POLL_JOB))).all()
    assert state.consecutive_failures == 1 and state.last_reason == reason
    assert len(queued) == 1 and queued[0].run_at > datetime.now(timezone.utc) + timedelta(minutes=14)
    press["mode"], press["items"], press["version"] = "ok", [1, 2, 3, 4], 3
    recovered = await poll(config, sessions_only)
    assert recovered.posted == 1
    async with sessions_only() as s:
        assert (await s.get(FeedImportState, "stadt")).consecutive_failures == 0


async def test_the_worker_starts_polls_and_editors_see_the_broken_feed(import_config, booted, sessions_only,
                                                                        press, aiohttp_client, test_password_hash):
    config = import_config()
    press["mode"] = "broken"
    client = await aiohttp_client(create_app(config, run_worker=False))
    worker = standard_worker(WorkerContext(config, sessions_only))
    await start_chains(sessions_only, config)  # what a starting worker does: one poll per account
    assert await worker.run_until_idle() == 2
    assert await worker.run_until_idle() == 0  # the next polls wait for their interval
    async with sessions_only() as s:
        states = (await s.scalars(select(FeedImportState))).all()
    assert {(s.actor_name, s.last_reason) for s in states} == {("stadt", "feed_broken"), ("feuerwehr", "feed_broken")}
    anonymous = await client.get("/editor/imports", allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/signin")
    visitor = await signed_in(Visitor(client), sessions_only, await editor(sessions_only, test_password_hash))
    page = await visitor.get("/editor/imports")
    await visitor.session.close()
    assert page.status == 200 and page.has("Broken") and page.has("feed could not be read") and page.has(press["url"])
    assert 'title="feed_broken: ' in page.text  # the code and the parser's words stay there for experts
