"""The read cache: what readers get from memory is never older than the last change of what it shows.

Every change goes through the application's own services (post, edit, delete, pin, key rotation) or the
ORM, as in production; the next GET must show it, an old ETag must get the new document, the current one a 304.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from bridge.app import create_app
from bridge.appkeys import ENGINE
from bridge.operations.keys import rotate_key
from bridge.publishing import posts
from bridge.store.blocks import DomainBlock
from bridge.store.db import utcnow
from bridge.store.models import Post, User
from bridge.store.platforms import PlatformConnection
from bridge.store.versions import INSTANCE, REPLIES, read_snapshot
from bridge.web.readcache import READ_CACHE, Entry, ReadCache
from support.public import delete, edit, editor, publish
from support.web import make_user, signed_in, visitors  # noqa: F401 (a fixture)

AP = {"Accept": "application/activity+json"}


@pytest.fixture
async def erika(sessions, test_password_hash):
    return await editor(sessions, test_password_hash)


async def get(client, path, **headers):
    response = await client.get(path, headers=headers, allow_redirects=False)
    return response, await response.read()


async def etag_then(client, path, change, expect: bytes, **headers):
    """GET (twice: the second from memory), change, GET with the old ETag: the change, a new ETag; then 304."""
    first, _ = await get(client, path, **headers)
    again, _ = await get(client, path, **headers, **{"If-None-Match": first.headers["ETag"]})
    assert first.status == 200 and again.status == 304, path
    await change()
    changed, body = await get(client, path, **headers, **{"If-None-Match": first.headers["ETag"]})
    assert changed.status in (200, 410) and expect in body, path
    assert changed.headers["ETag"] != first.headers["ETag"]
    current, empty = await get(client, path, **headers, **{"If-None-Match": changed.headers["ETag"]})
    assert current.status == 304 and empty == b""


async def in_another_process(tmp_path, db_url: str, user_id: int, body: str) -> None:
    """Runs `body` in a second Python process on the same database, inside a transaction `s` with `config`
    and `user` at hand: that process's commits reach this one only through the version board."""
    script = textwrap.dedent(f"""
        import asyncio, os
        from pathlib import Path
        from bridge.config.load import parse_config
        from bridge.store.db import create_engine, create_sessionmaker
        from bridge.store.models import User
        from testkit import config_dict

        async def main():
            tmp = Path({str(tmp_path)!r})
            config = parse_config(config_dict(tmp, {db_url!r}), tmp, None, os.environ)
            engine = create_engine({db_url!r})
            async with create_sessionmaker(engine).begin() as s:
                user = await s.get(User, {user_id})
    """) + textwrap.indent(textwrap.dedent(body), " " * 8) + textwrap.dedent("""
            await engine.dispose()
        asyncio.run(main())
    """)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.path.join(root, "tests")])}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", script], env=env, capture_output=True,
                                   text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


async def test_an_edit_shows_at_once_on_every_cached_form_of_the_post(client, sessions, config, erika):
    post_id = await publish(sessions, config, erika, "Die Brücke ist gesperrt #verkehr")
    texts = iter(f"Die Brücke ist wieder offen {n} #verkehr" for n in range(20))
    paths = [(f"/@stadt/{post_id}", {}), (f"/@stadt/{post_id}", AP), (f"/users/stadt/statuses/{post_id}", AP),
             ("/@stadt", {}), ("/@stadt.rss", {}), ("/@stadt.json", {}), ("/tags/verkehr", {}),
             ("/tags/verkehr.atom", {}), ("/feed.rss", {}), ("/users/stadt/outbox?page=true", AP)]
    for n, (path, headers) in enumerate(paths):
        text = next(texts)

        async def change(text=text, n=n):
            await edit(sessions, config, erika, post_id, text, now=utcnow() + timedelta(seconds=2 + n))
        await etag_then(client, path, change, text.split(" #")[0].encode(), **headers)


async def test_a_deletion_shows_at_once(client, sessions, config, erika):
    post_id = await publish(sessions, config, erika, "Bald gelöscht")
    outbox = json.loads((await get(client, "/users/stadt/outbox", **AP))[1])
    nodeinfo = json.loads((await get(client, "/nodeinfo/2.1"))[1])
    assert outbox["totalItems"] == 1 and nodeinfo["usage"]["localPosts"] == 1
    await etag_then(client, f"/users/stadt/statuses/{post_id}", lambda: delete(sessions, erika, post_id),
                    b"Tombstone", **AP)
    profile = (await get(client, "/@stadt"))[1]
    assert b"Bald gel" not in profile
    assert json.loads((await get(client, "/users/stadt/outbox", **AP))[1])["totalItems"] == 0
    assert json.loads((await get(client, "/nodeinfo/2.1"))[1])["usage"]["localPosts"] == 0


async def test_pinning_shows_in_the_featured_collection(client, sessions, config, erika):
    post_id = await publish(sessions, config, erika, "Angeheftet")

    async def pin():
        async with sessions.begin() as s:
            result = await posts.pin_post(s, await s.get(User, erika), await s.get(Post, post_id), True)
            assert result.ok
    await etag_then(client, "/users/stadt/collections/featured", pin, b"Angeheftet", **AP)


async def test_a_new_key_shows_in_the_actor_document(client, sessions, config):
    async def rotate():
        async with sessions.begin() as s:
            assert (await rotate_key(s, config, "stadt")).ok
    before = json.loads((await get(client, "/users/stadt", **AP))[1])["publicKey"]["publicKeyPem"]
    await etag_then(client, "/users/stadt", rotate, b"publicKeyPem", **AP)
    after = json.loads((await get(client, "/users/stadt", **AP))[1])["publicKey"]["publicKeyPem"]
    assert after != before


async def test_a_second_reader_is_answered_without_a_database_statement(client, sessions, config, erika):
    await publish(sessions, config, erika, "Aus dem Speicher")
    paths = [("/users/stadt", AP), ("/@stadt", {}), ("/@stadt.rss", {}), ("/.well-known/webfinger?resource="
             "acct:stadt@stadt.test", {}), ("/nodeinfo/2.1", {})]
    for path, headers in paths:
        assert (await get(client, path, **headers))[0].status == 200
    seen = []
    engine = client.app[ENGINE].sync_engine

    def listener(_conn, _cursor, statement, *_):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for path, headers in paths:
            assert (await get(client, path, **headers))[0].status == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    # At most the versions' re-read (two small statements) when a second passed: never a per-request query,
    # and no reload of the accounts and platforms while the instance version stands still.
    assert len(seen) <= 2 and all("read_version" in s or "FROM actor" in s for s in seen)
    assert not [s for s in seen if "platform_connection" in s or "profile_version" in s]


async def test_a_signed_in_editor_is_never_answered_from_the_readers_cache(client, sessions, visitors):
    reader = await client.get("/@stadt")
    assert reader.headers["Cache-Control"] == "public, max-age=60" and "Set-Cookie" not in reader.headers
    user_id, _ = await make_user(sessions, "erich")
    visitor = await signed_in(visitors(), sessions, user_id)
    page = await visitor.get("/@stadt")
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    assert "ETag" not in page.headers  # rendered for them, not taken from (nor put into) the readers' cache


async def test_writes_bump_exactly_the_versions_they_change(sessions, config, erika, db_url):
    engine = sessions.kw["bind"]
    before = await read_snapshot(engine)
    stadt, feuerwehr = before.accounts["stadt"], before.accounts["feuerwehr"]
    await publish(sessions, config, erika, "Eins")
    after = await read_snapshot(engine)
    assert after.version(stadt) > before.version(stadt) and after.version(INSTANCE) > before.version(INSTANCE)
    assert after.version(feuerwehr) == before.version(feuerwehr) and after.version(REPLIES) == before.version(REPLIES)
    assert after.posts[stadt] == before.posts.get(stadt, 0) + 1
    async with sessions.begin() as s:
        s.add(DomainBlock(domain="spam.example", reason="spam", blocked_by="user:1"))
    blocked = await read_snapshot(engine)
    assert blocked.version(REPLIES) > after.version(REPLIES) and blocked.version(stadt) == after.version(stadt)
    async with sessions() as s:  # rolled back: nothing changed, nothing bumped
        s.add(DomainBlock(domain="other.example", reason="spam", blocked_by="user:1"))
        await s.flush()
        await s.rollback()
    assert (await read_snapshot(engine)).versions == blocked.versions
    async with sessions.begin() as s:  # a bulk statement cannot say which rows it touched: everything moves
        await s.execute(update(Post).where(Post.id == -1).values(review_comment=None))
    bulk = await read_snapshot(engine)
    assert all(bulk.version(scope) > blocked.version(scope) for scope in blocked.versions)


async def test_another_process_change_is_seen_after_the_recheck_time(aiohttp_client, make_config, booted, sessions,
                                                                     erika, db_url, tmp_path):
    """Two processes on one database: a post published by a second process reaches this one's readers."""
    config = make_config(cache={"recheck_ms": 0})
    client = await aiohttp_client(create_app(config, run_worker=False))
    first, _ = await get(client, "/@stadt.rss")
    await in_another_process(tmp_path, db_url, erika, """
        from bridge.publishing import posts
        from bridge.publishing.drafts import Draft
        result = await posts.create_post(s, config, user, Draft("stadt", "Aus dem anderen Prozess"))
        assert result.ok, result.reason
    """)
    changed, body = await get(client, "/@stadt.rss", **{"If-None-Match": first.headers["ETag"]})
    assert changed.status == 200 and "Aus dem anderen Prozess".encode() in body


async def test_a_platform_connection_bumps_the_instance_version_alone(sessions, erika):
    engine = sessions.kw["bind"]
    before = await read_snapshot(engine)
    async with sessions.begin() as s:
        s.add(PlatformConnection(id="mastodon-stadt", kind="mastodon", api_base="https://social.example",
                                 recipient="Social GmbH", country="DE", transfer_mechanism="", sealed_credentials=b"x"))
    added = await read_snapshot(engine)
    assert added.version(INSTANCE) > before.version(INSTANCE)
    assert {scope: v for scope, v in added.versions.items() if scope != INSTANCE} == \
        {scope: v for scope, v in before.versions.items() if scope != INSTANCE}
    async with sessions.begin() as s:
        (await s.get(PlatformConnection, "mastodon-stadt")).version = 2
    assert (await read_snapshot(engine)).version(INSTANCE) > added.version(INSTANCE)


async def test_an_account_made_in_another_process_answers_webfinger_after_the_recheck_time(
        aiohttp_client, make_config, booted, sessions, erika, db_url, tmp_path):
    """The accounts reload on the instance version, which this process re-reads every `recheck_ms`."""
    config = make_config(cache={"recheck_ms": 200})
    client = await aiohttp_client(create_app(config, run_worker=False))
    finger = "/.well-known/webfinger?resource=acct:theater@stadt.test"
    assert (await get(client, finger))[0].status == 404
    await in_another_process(tmp_path, db_url, erika, """
        from bridge.publishing.profiles import ProfileForm, create_account
        result = await create_account(s, config, ProfileForm("theater", "Stadttheater"), user)
        assert result.reason == "ok", result.reason
    """)
    for _ in range(100):  # polls: the version board re-reads after 0.2 s, a loaded machine may take longer
        status = (await get(client, finger))[0].status
        if status == 200:
            break
        await asyncio.sleep(0.1)
    assert status == 200


async def test_cache_control_by_area(client):
    public = [("/", "public, max-age=60"), ("/@stadt", "public, max-age=60"), ("/@stadt.rss", "public, max-age=60"),
              ("/.well-known/webfinger?resource=acct:stadt@stadt.test", "public, max-age=180"),
              ("/nodeinfo/2.1", "public, max-age=180")]
    for path, expected in public:
        assert (await client.get(path)).headers["Cache-Control"] == expected, path
    actor = await client.get("/users/stadt", headers=AP)
    assert actor.headers["Cache-Control"] == "public, max-age=180" and actor.headers["Vary"] == "Accept"
    for path in ("/api/v1/accounts/verify_credentials", "/api/v1/timelines/home", "/oauth/token", "/editor", "/admin/users", "/dpo",
                 "/signin"):
        response = await client.get(path, allow_redirects=False)
        assert response.headers.get("Cache-Control") == "no-store", path


def test_the_cache_keeps_the_most_recently_used_within_its_bytes():
    cache = ReadCache(board=None, max_bytes=3 * (1000 + 600))

    def entry(n):
        return Entry(200, bytes(1000), (("ETag", f'"{n}"'),), f'"{n}"', None)
    for n in range(3):
        cache.put((n,), entry(n))
    assert cache.get((0,)) is not None  # now the most recently used
    cache.put((3,), entry(3))
    assert cache.get((1,)) is None and cache.get((0,)) is not None and cache.bytes <= cache.max_bytes
    cache.put(("huge",), Entry(200, bytes(10_000), (), '"h"', None))
    assert cache.get(("huge",)) is None  # larger than the whole cache: not kept, nothing evicted for it
    assert len(cache.entries) == 3


async def test_pages_with_replies_leave_memory_when_the_replies_change(client, sessions, config, erika):
    post_id = await publish(sessions, config, erika, "Mit Antworten")
    assert (await client.get(f"/@stadt/{post_id}")).status == 200
    assert (await client.get("/@stadt")).status == 200
    cache = client.app[READ_CACHE]
    assert {key[0][0] for key in cache.entries} >= {"post", "profile"}
    async with sessions.begin() as s:  # a domain block: the replies version moves
        s.add(DomainBlock(domain="gone.example", reason="abuse", blocked_by="user:1"))
    assert (await client.get("/@stadt")).status == 200
    assert "post" not in {key[0][0] for key in cache.entries} and "profile" in {key[0][0] for key in cache.entries}


async def test_metrics_report_the_cache_hit_ratio(client, config):
    await client.get("/@stadt")
    await client.get("/@stadt")
    text = await (await client.get("/metrics")).text()
    assert 'stadtbote_read_cache_total{result="hit"}' in text and 'stadtbote_read_cache_total{result="miss"}' in text


@pytest.fixture
def long_way(monkeypatch):
    """Counts requests that went through the middlewares after the shortcut (each sets the language)."""
    import bridge.web.middleware as middleware
    calls = []
    real = middleware.set_language
    monkeypatch.setattr(middleware, "set_language", lambda language: (calls.append(language), real(language)))
    return calls


async def test_a_repeated_read_is_answered_by_the_shortcut_with_the_same_headers(client, sessions, config, erika,
                                                                                  long_way):
    post_id = await publish(sessions, config, erika, "Kurzer Weg")
    for path, headers in [("/users/stadt", AP), (f"/@stadt/{post_id}", AP), (f"/@stadt/{post_id}", {}),
                          ("/@stadt.rss", {}), ("/.well-known/webfinger?resource=acct:stadt@stadt.test", {})]:
        first, body = await get(client, path, **headers)
        long_way.clear()
        again, same = await get(client, path, **headers)
        conditional, empty = await get(client, path, **headers, **{"If-None-Match": first.headers["ETag"]})
        assert not long_way, f"{path}: answered by the handlers, not the shortcut"
        assert again.status == 200 and same == body and conditional.status == 304 and empty == b""
        dropped = {"Date", "Content-Length", "Server"}
        assert {k: v for k, v in again.headers.items() if k not in dropped} == \
               {k: v for k, v in first.headers.items() if k not in dropped}, path
        assert conditional.headers["ETag"] == first.headers["ETag"] and "Set-Cookie" not in again.headers
        if "Vary" in first.headers:
            assert conditional.headers["Vary"] == first.headers["Vary"]


async def test_the_shortcut_keeps_the_accept_header_apart(client, sessions, config, erika, long_way):
    post_id = await publish(sessions, config, erika, "Zwei Formen")
    html, _ = await get(client, f"/@stadt/{post_id}")
    note, _ = await get(client, f"/@stadt/{post_id}", **AP)
    html_again, page = await get(client, f"/@stadt/{post_id}", Accept="text/html")  # a new Accept: the long way
    assert html.content_type == "text/html" and note.content_type == "application/activity+json"
    assert html_again.content_type == "text/html" and b"Zwei Formen" in page and long_way
    long_way.clear()
    assert (await get(client, f"/@stadt/{post_id}", **AP))[0].content_type == "application/activity+json"
    assert (await get(client, f"/@stadt/{post_id}"))[0].content_type == "text/html"
    assert not long_way


async def test_after_a_change_the_shortcut_gives_way_to_the_new_document(client, sessions, config, erika, long_way):
    post_id = await publish(sessions, config, erika, "Vorher")
    first, _ = await get(client, "/@stadt.rss")
    await get(client, "/@stadt.rss")
    await edit(sessions, config, erika, post_id, "Nachher", now=utcnow() + timedelta(seconds=2))
    long_way.clear()
    changed, body = await get(client, "/@stadt.rss", **{"If-None-Match": first.headers["ETag"]})
    assert changed.status == 200 and b"Nachher" in body and long_way
    long_way.clear()
    current, _ = await get(client, "/@stadt.rss", **{"If-None-Match": changed.headers["ETag"]})
    assert current.status == 304 and not long_way


async def test_signed_in_people_and_cookies_never_take_the_shortcut(client, sessions, visitors, long_way):
    await get(client, "/@stadt")
    await get(client, "/@stadt")
    user_id, _ = await make_user(sessions, "erich")
    visitor = await signed_in(visitors(), sessions, user_id)
    long_way.clear()
    page = await visitor.get("/@stadt")
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store" and "ETag" not in page.headers
    assert long_way
    long_way.clear()
    stray, _ = await get(client, "/@stadt", Cookie="theme=dark")  # any cookie: the handlers decide
    assert stray.status == 200 and long_way


async def test_readers_answered_by_the_shortcut_are_still_counted(client, sessions, config, erika):
    from bridge.appkeys import PAGE_COUNTER
    client.app[PAGE_COUNTER].drain()
    for _ in range(3):
        assert (await get(client, "/@stadt"))[0].status == 200
    assert sum(n for (path, _), n in client.app[PAGE_COUNTER].drain().items() if path == "/@stadt") == 3


async def test_the_followers_count_is_counted_once_per_change_not_per_request(client, sessions):
    from bridge.appkeys import FEDERATION
    from consent.followers import add_follower, remove_follower
    from consent.subjects import ActorFacts, remember_actor

    path = "/users/stadt/followers"
    first, body = await get(client, path, **AP)
    assert json.loads(body)["totalItems"] == 0
    seen = []
    engine = client.app[ENGINE].sync_engine

    def listener(_conn, _cursor, statement, *_):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        again, _ = await get(client, path, **AP)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert again.status == 200 and not [s for s in seen if "follower" in s]
    vault = client.app[FEDERATION].vault
    async with sessions.begin() as s:
        subject = await remember_actor(s, vault, ActorFacts(uri="https://social.test/users/anna",
                                                           inbox="https://social.test/users/anna/inbox"))
        assert await add_follower(s, vault, subject, "stadt", "https://social.test/follows/1")
    followed, body = await get(client, path, **AP, **{"If-None-Match": first.headers["ETag"]})
    assert followed.status == 200 and json.loads(body)["totalItems"] == 1
    async with sessions.begin() as s:  # an Undo: a bulk delete of the follow
        assert await remove_follower(s, subject, "stadt") == 1
    assert json.loads((await get(client, path, **AP))[1])["totalItems"] == 0
