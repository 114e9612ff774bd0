"""Threads' figures of a mirrored post (issue 22): the media insights (`GET /{media-id}/insights?metric=views,
likes,replies,reposts,quotes`), under our metric names, fetched by backfeed; a failing call keeps the last
figure and its date, as for the other platforms."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bridge.platforms import sends as mirroring
from bridge.platforms.connectors.base import METRIC_NAMES, Outcome, Remote
from bridge.platforms.connectors.threads import ThreadsConnector, insight_values
from bridge.publishing import posts
from bridge.store.platforms import PlatformSend
from fakes.meta import FakeThreads
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, platform, state, view
from support.mirroring import start_more


def threads(fake, token="threads-token") -> ThreadsConnector:
    connector = ThreadsConnector(platform("threads", "http://graph.threads.net/v1.0", threads_user_id="me",
                                          access_token=token), fake.http, state(), Clock())
    connector.status_waits = ()
    return connector


@pytest.fixture
async def fake(aiohttp_server):
    fake = FakeThreads()
    server = await aiohttp_server(fake.app())
    fake.http = guarded(MapResolver({"graph.threads.net": ("127.0.0.1", server.port)}), total_timeout=QUICK_TIMEOUT)
    yield fake
    await fake.http.close()


async def test_insights_come_back_under_our_names(fake):
    connector = threads(fake)
    sent = await connector.publish(connector.render(view("Neue Radwege in der Innenstadt")), "h")
    fake.insights[sent.remote.id] = {"views": 1200, "likes": 31, "replies": 4, "reposts": 6, "quotes": 1}
    metrics = await connector.fetch_metrics(sent.remote)
    assert metrics.result.outcome is Outcome.SENT
    assert metrics.counts == {"views": 1200, "likes": 31, "replies": 4, "reposts": 6, "quotes": 1}
    assert set(metrics.counts) <= set(METRIC_NAMES)
    assert f"GET {sent.remote.id}/insights" in fake.calls


async def test_insights_of_an_unknown_post_or_with_a_bad_token_are_failures_without_counts(fake):
    gone = await threads(fake).fetch_metrics(Remote("999"))
    assert gone.result.outcome is not Outcome.SENT and gone.counts == {}
    refused = await threads(fake, token="wrong").fetch_metrics(Remote("999"))
    assert refused.result.outcome is Outcome.AUTH_FAILED and refused.counts == {}


def test_total_value_and_unreadable_items_are_handled():
    assert insight_values({"data": [{"name": "views", "total_value": {"value": 9}},
                                    {"name": "likes", "values": []}, "junk"]}) == {"views": 9, "likes": None}
    assert insight_values(None) == {}


async def test_backfeed_keeps_threads_figures_and_a_failure_keeps_the_last_with_its_date(
        make_config, sessions_only, aiohttp_server, test_password_hash):
    bridge, closing = await start_more(make_config, sessions_only, aiohttp_server, test_password_hash)
    try:
        async with bridge.sessions.begin() as s:
            user = await s.get(posts.User, bridge.user_id)
            result = await posts.create_post(s, bridge.config, user,
                                             posts.Draft("stadt", "Sperrung der Brücke", mirrors=("th",)))
            post_id = result.post.id
        await bridge.run()
        fake = bridge.fakes["th"]
        remote = (await bridge.send(post_id, "th")).remote_id
        fake.insights[remote] = {"views": 80, "likes": 3}
        await bridge.make_due(mirroring.BACKFEED_JOB)
        await bridge.run()
        first = await bridge.send(post_id, "th")
        assert first.metrics == {"views": 80, "likes": 3, "replies": 0, "reposts": 0, "quotes": 0}
        fake.insights[remote] = {"views": 500}
        fake.tokens.clear()  # the token no longer works: the call fails
        bridge.clock.advance(minutes=20)
        await bridge.make_due(mirroring.BACKFEED_JOB)
        await bridge.run()
        async with bridge.sessions() as s:
            after = await s.scalar(select(PlatformSend).where(PlatformSend.post_id == post_id))
        assert (after.metrics, after.metrics_at) == (first.metrics, first.metrics_at)
    finally:
        for federation in closing:
            await federation.close()
