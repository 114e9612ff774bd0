"""A feed request costs the same number of SQL statements with 5 posts stored as with 60."""

from __future__ import annotations

from sqlalchemy import event

from bridge.app import create_app
from bridge.appkeys import ENGINE, SESSIONS
from support.public import editor, publish


class StatementCounter:
    def __init__(self, engine):
        self.engine, self.count = engine.sync_engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args):
        self.count += 1


async def statements_for(client, path, **headers) -> int:
    with StatementCounter(client.app[ENGINE]) as counter:
        response = await client.get(path, headers=headers)
        await response.read()
    assert response.status in (200, 304), path
    return counter.count


async def counts(client) -> dict[str, int]:
    # A process loads the accounts once, at the first request that sees the versions; later requests after a
    # write only check them. Warm up on a page not counted, so both rounds measure the same steady state.
    await client.get("/.well-known/nodeinfo")
    paths = ["/@stadt.rss", "/@stadt.atom", "/tags/zahl.json", "/feed.rss", "/@stadt", "/tags/zahl"]
    result = {path: await statements_for(client, path) for path in paths}
    etag = (await client.get("/@stadt.rss")).headers["ETag"]
    result["304"] = await statements_for(client, "/@stadt.rss", **{"If-None-Match": etag})
    return result


async def test_feed_and_page_requests_issue_a_constant_number_of_statements(aiohttp_client, make_config, booted,
                                                                            test_password_hash):
    # Versions are re-read after this process's own writes only, never because a second passed mid-test.
    config = make_config(cache={"recheck_ms": 60000})
    client = await aiohttp_client(create_app(config, run_worker=False))
    sessions = client.app[SESSIONS]
    user_id = await editor(sessions, test_password_hash)
    for n in range(5):
        await publish(sessions, config, user_id, f"Meldung {n} #zahl", images=(("Bild", False),) if n % 2 else ())
    few = await counts(client)
    for n in range(5, 60):
        await publish(sessions, config, user_id, f"Meldung {n} #zahl", images=(("Bild", False),) if n % 2 else ())
    many = await counts(client)
    assert few == many
    assert few["304"] < few["/@stadt.rss"]  # the 304 is answered before any post is loaded
    # Posts, their images, tags, polls and events are each loaded once for the whole page, never per post.
    assert max(few.values()) <= 8
