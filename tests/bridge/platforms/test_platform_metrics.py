"""The platforms' own public counts of mirrored posts: fetched by the periodic backfeed job from the documented
endpoints (Bluesky getPosts, Mastodon GET /api/v1/statuses/:id, X GET /2/tweets/:id with public_metrics),
kept per send with the date fetched; a failing call leaves the last figure and its date."""

from __future__ import annotations

import pytest

from activitypub.uris import Uris
from bridge.platforms import sends as mirroring
from bridge.platforms.connectors.base import Outcome, PollView, Reason, Remote
from bridge.reach.figures import account_reach
from support.mirroring import bridge  # noqa: F401  (fixture)
from bridge.platforms.connectors.x import XConnector
from bridge.publishing import posts
from bridge.publishing.pollrules import PollDraft
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, image_view, platform, state, view
from fakes.x import FakeX


async def test_bluesky_and_mastodon_counts_are_kept_per_send_and_shown_apart(bridge):
    post_id = await bridge.post("Neue Öffnungszeiten im Bürgeramt", mirrors=("bsky", "masto"))
    await bridge.run()
    bridge.bluesky.counts = {"likeCount": 7, "repostCount": 2, "replyCount": 1, "quoteCount": 0}
    bridge.mastodon.counts = {"favourites_count": 4, "reblogs_count": 3, "replies_count": 0}
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    bsky, masto = await bridge.send(post_id, "bsky"), await bridge.send(post_id, "masto")
    assert bsky.metrics == {"likes": 7, "reposts": 2, "replies": 1, "quotes": 0} and bsky.metrics_at is not None
    assert masto.metrics == {"likes": 4, "reposts": 3, "replies": 0} and masto.metrics_at is not None
    async with bridge.sessions() as s:
        figures = await account_reach(s, Uris.for_base(bridge.config.instance.base_url), "stadt", bridge.clock().date())
    [reach] = [p for p in figures.posts if p.post_id == post_id]
    assert [(f.platform, f.counts["likes"]) for f in reach.platforms] == [("bsky", 7), ("masto", 4)]
    assert reach.likes == 0 and reach.boosts == 0  # the fediverse's own figures stay apart, nothing merged


async def test_a_failing_metrics_call_keeps_the_last_figure_and_its_date(bridge):
    post_id = await bridge.post("Straßenfest am Samstag", mirrors=("bsky", "masto"))
    await bridge.run()
    bridge.bluesky.counts = {"likeCount": 5, "repostCount": 1, "replyCount": 0, "quoteCount": 0}
    bridge.mastodon.counts = {"favourites_count": 2, "reblogs_count": 1, "replies_count": 0}
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    before = {p: await bridge.send(post_id, p) for p in ("bsky", "masto")}
    bridge.bluesky.counts = {"likeCount": 99, "repostCount": 9, "replyCount": 9, "quoteCount": 9}
    bridge.mastodon.counts = {"favourites_count": 99, "reblogs_count": 9, "replies_count": 9}
    asked = bridge.mastodon.calls.count("GET status")
    bridge.bluesky.down = True  # every request 503
    bridge.mastodon.mode = "500"  # the status lookup fails once
    bridge.clock.advance(minutes=20)
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    for platform, old in before.items():
        now = await bridge.send(post_id, platform)
        assert (now.metrics, now.metrics_at) == (old.metrics, old.metrics_at), platform
    assert bridge.mastodon.calls.count("GET status") == asked + 1 and any(c.startswith("503") for c in bridge.bluesky.calls)


@pytest.fixture
async def x_fake(aiohttp_server):
    fake = FakeX()
    server = await aiohttp_server(fake.app())
    fake.http = guarded(MapResolver({"api.x.com": ("127.0.0.1", server.port)}), total_timeout=QUICK_TIMEOUT)
    yield fake
    await fake.http.close()


def _x(fake, **extra) -> XConnector:
    return XConnector(platform("x", "http://api.x.com", client_id="app-id", access_token="x-token",
                               refresh_token="x-refresh", **extra), fake.http, state(), Clock())


async def test_x_public_metrics_are_read_only_where_the_plan_pays_for_reading(x_fake):
    connector = _x(x_fake, read_replies=True)
    sent = await connector.publish(connector.render(view("Baustelle Hauptstraße")), "h")
    x_fake.public_metrics.update(like_count=12, retweet_count=3, impression_count=480)
    metrics = await connector.fetch_metrics(sent.remote)
    assert metrics.result.outcome is Outcome.SENT
    assert metrics.counts == {"likes": 12, "reposts": 3, "replies": 0, "quotes": 0, "views": 480}
    unpaid = await _x(x_fake).fetch_metrics(sent.remote)
    assert unpaid.result.outcome is Outcome.UNSUPPORTED and unpaid.counts == {}
    assert x_fake.calls.count("GET tweet") == 1  # the account without a reading plan asked nothing


async def test_x_metrics_of_a_deleted_post_or_with_a_revoked_token_are_failures_without_counts(x_fake):
    gone = await _x(x_fake, read_replies=True).fetch_metrics(Remote("1"))
    assert gone.result.outcome is not Outcome.SENT and gone.counts == {}
    x_fake.tokens.clear()
    x_fake.refresh_tokens.clear()  # no way back in: the account must be reconnected
    revoked = await _x(x_fake, read_replies=True).fetch_metrics(Remote("1"))
    assert revoked.result.outcome is Outcome.AUTH_FAILED and revoked.counts == {}


async def test_a_platform_without_public_figures_says_so():
    from bridge.platforms.connectors.xing import XingConnector
    metrics = await XingConnector(platform("xing", "https://www.xing.com"), None, state(), Clock()).fetch_metrics(
        Remote("1"))
    assert (metrics.result.outcome, metrics.result.reason) == (Outcome.UNSUPPORTED, Reason.METRICS_UNAVAILABLE)


# Native platform polls: Mastodon (`poll` on POST /api/v1/statuses) and X (`poll` on POST /2/tweets) get their own
# poll; its votes come back with the figures and stay apart from the fediverse's tally.

async def _post_poll(bridge, text: str, options=("Ja", "Nein"), mirrors=("bsky", "masto")) -> int:
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        result = await posts.create_post(s, bridge.config, user, posts.Draft(
            "stadt", text, mirrors=mirrors, poll=PollDraft(tuple(options), 86400)))
        assert result.ok, result.reason
        return result.post.id


async def test_mastodon_gets_a_native_poll_whose_votes_stay_apart_from_ours(bridge):
    post_id = await _post_poll(bridge, "Soll der Markt samstags länger öffnen?")
    await bridge.run()
    masto, bsky = await bridge.send(post_id, "masto"), await bridge.send(post_id, "bsky")
    status = bridge.mastodon.statuses[masto.remote_id]
    assert [o["title"] for o in status["poll"]["options"]] == ["Ja", "Nein"]
    assert status["poll"]["expires_in"] == 86400 and status["poll"]["multiple"] is False
    record = bridge.bluesky.records[bsky.remote_extra["rkey"]]
    assert f"/@stadt/{post_id}" in record["text"]  # Bluesky has no polls: the link to the page
    bridge.mastodon.poll_votes = [3, 1]
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    masto = await bridge.send(post_id, "masto")
    assert masto.metrics["poll"] == [3, 1] and masto.metrics["poll_voters"] == 4  # single choice: one vote each
    async with bridge.sessions() as s:
        figures = await account_reach(s, Uris.for_base(bridge.config.instance.base_url), "stadt", bridge.clock().date())
    [reach] = [p for p in figures.posts if p.post_id == post_id]
    assert reach.voters == 0  # nobody voted in the fediverse: Mastodon.example's votes are not added
    assert [(f.platform, f.poll, f.poll_votes) for f in reach.platforms if f.poll] == [("masto", (3, 1), 4)]


def test_a_poll_beyond_the_servers_limits_or_with_images_goes_as_a_link(tmp_path):
    from bridge.platforms.connectors.mastodon import MastodonConnector
    connector = MastodonConnector(platform("mastodon", "http://mastodon.example"), None, state(), Clock())
    connector.account.limits = {"poll_max_options": 4}
    five = PollView(("a", "b", "c", "d", "e"), False, 86400)
    assert connector.render(view("Umfrage", poll=five)).extra["poll"] is None
    two = PollView(("Ja", "Nein"), True, 86400)
    assert connector.render(view("Umfrage", poll=two)).extra["poll"]["multiple"] is True
    assert connector.render(view("Umfrage", poll=two, images=[image_view(tmp_path, "a.png")])).extra["poll"] is None


async def test_x_gets_a_native_poll_and_its_votes_in_our_option_order(x_fake, tmp_path):
    connector = _x(x_fake, read_replies=True)
    poll = PollView(("Ja", "Nein", "Egal"), False, 2 * 86400)
    sent = await connector.publish(connector.render(view("Neues Logo?", poll=poll)), "h")
    assert x_fake.tweets[sent.remote.id]["poll"] == {"options": ["Ja", "Nein", "Egal"], "duration_minutes": 2880}
    x_fake.poll_votes = [5, 2, 1]
    metrics = await connector.fetch_metrics(sent.remote)
    assert metrics.result.outcome is Outcome.SENT and metrics.poll == (5, 2, 1)
    several = PollView(("Ja", "Nein"), True, 86400)  # X polls have one choice only
    assert connector.render(view("Mehrfach?", poll=several)).extra["poll"] is None
    pictured = connector.render(view("Mit Bild?", poll=poll, images=[image_view(tmp_path, "a.png")]))
    assert pictured.extra["poll"] is None
    sent = await connector.publish(pictured, "h2")
    assert sent.outcome is Outcome.SENT and x_fake.tweets[sent.remote.id]["poll"] is None


async def test_mastodon_multiple_choice_poll_reports_its_voters_apart_from_its_votes(bridge):
    async with bridge.sessions.begin() as s:
        user = await s.get(posts.User, bridge.user_id)
        result = await posts.create_post(s, bridge.config, user, posts.Draft(
            "stadt", "Welche Tage passen?", mirrors=("masto",), poll=PollDraft(("Mo", "Di", "Mi"), 86400, True)))
        post_id = result.post.id
    await bridge.run()
    bridge.mastodon.poll_votes, bridge.mastodon.poll_voters = [3, 2, 2], 4
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    masto = await bridge.send(post_id, "masto")
    assert masto.metrics["poll"] == [3, 2, 2] and masto.metrics["poll_voters"] == 4
