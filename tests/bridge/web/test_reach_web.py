"""Reach without tracking: followers from the fediverse fakes like, boost and vote, and the figures show on
`/editor/reach` (page, CSV, JSON) and in the API's counters; page views are counted per page and day except
with DNT or GPC; feed aggregators' subscriber numbers keep only the aggregator's name."""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from activitypub.uris import PUBLIC
from bridge.appkeys import SESSIONS
from bridge.reach.counters import aggregator_of
from bridge.reach.figures import OTHER, ServerShare, fold
from bridge.store.platforms import PlatformSend, SendState
from bridge.store.reach import FeedSubscribers, PageView
from bridge.web.public import counting
from fakes.fediverse import AS_CONTEXT, mastodon_follow, mastodon_vote
from support.inbox import CITY, instances, mastodon, network, note_uri, run_jobs, stadt  # noqa: F401
from support.web import Visitor, compose_form, editor, post_id_from

FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; )"


@pytest.fixture
async def browsers(stadt):
    opened: list[Visitor] = []

    def make() -> Visitor:
        opened.append(Visitor(stadt))
        return opened[-1]

    yield make
    for v in opened:
        await v.close()


def test_small_servers_are_folded_into_other():
    assert fold({"big.test": 7, "mid.test": 5, "a.test": 1, "b.test": 4}) == (
        ServerShare("big.test", 7), ServerShare("mid.test", 5), ServerShare(OTHER, 5))
    assert fold({"lonely.test": 1}) == (ServerShare(OTHER, 1),)


@pytest.mark.parametrize("agent, expected", [
    (FEEDLY, ("Feedly", 42)),
    ("Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 12 subscribers; )", ("Inoreader", 12)),
    ("NewsBlur Feed Fetcher - 5 subscribers - http://www.newsblur.com/site/1/stadt", ("NewsBlur", 5)),
    ("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", None),
    ("", None),
])
def test_only_an_aggregators_name_and_number_are_read(agent, expected):
    assert aggregator_of(agent) == expected


async def test_followers_likes_boosts_and_votes_show_in_the_reach_figures(stadt, instances, browsers, caplog):
    caplog.set_level(logging.DEBUG)
    mastodon = await instances("mastodon.test")
    gts = await instances("gts.test", "gotosocial")
    people = [mastodon.add_actor(f"person{i}") for i in range(5)]
    loner = gts.add_actor("loner")
    for actor in (*people, loner):
        assert (await actor.instance.sign_and_post(stadt, mastodon_follow(actor, CITY), actor))[0] == 202
    browser = await editor(browsers, stadt.app[SESSIONS], "erika")
    form_post = await browser.post("/editor/compose", _poll_form())
    post_id = post_id_from(form_post)
    await run_jobs(stadt)  # the Create goes to both servers
    alice, bob = people[0], people[1]
    like = {"@context": AS_CONTEXT, "id": f"{alice.uri}#likes/1", "type": "Like", "actor": alice.uri,
            "object": note_uri(post_id)}
    boost = {"@context": AS_CONTEXT, "id": f"{bob.uri}/statuses/9/activity", "type": "Announce", "actor": bob.uri,
             "object": note_uri(post_id), "to": [PUBLIC], "cc": [CITY]}
    for actor, activity in ((alice, like), (bob, boost),
                            (alice, mastodon_vote(alice, note_uri(post_id), CITY, "Ja")),
                            (bob, mastodon_vote(bob, note_uri(post_id), CITY, "Nein"))):
        assert (await mastodon.sign_and_post(stadt, activity, actor))[0] == 202
    # readers: two counted views, one with DNT and one with GPC that are not; a feed aggregator
    for headers in ({}, {}, {"DNT": "1"}, {"Sec-GPC": "1"}):
        assert (await stadt.get(f"/@stadt/{post_id}", headers=headers)).status == 200
    assert (await stadt.get("/@stadt.rss", headers={"User-Agent": FEEDLY})).status == 200
    await counting.flush(stadt.app)
    async with stadt.app[SESSIONS]() as session:
        assert [(v.path, v.views) for v in (await session.scalars(select(PageView))).all()] == \
            [(f"/@stadt/{post_id}", 2)]
        [feed] = (await session.scalars(select(FeedSubscribers))).all()
        assert (feed.feed, feed.aggregator, feed.subscribers) == ("/@stadt.rss", "Feedly", 42)
    # the application's own logs (the test server's default access log is not the one `serve` installs)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("stadtbote")]
    assert ours and not any("feedly.com" in m or "Feedly/1.0" in m for m in ours)

    page = await browser.get("/editor/reach")
    assert page.status == 200 and page.has("Reach of stadt")
    assert page.text.count("<svg") >= 2 and "<script" not in page.text
    row = page.text[page.text.index(f'id="post-{post_id}"'):].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("<")[0] for c in row.split("<td")[2:]]
    # servers reached, deliveries accepted, refused, likes, boosts, quotes, replies, votes, page views
    assert cells == ["2", "2", "0", "1", "1", "0", "0", "2", "2"]
    servers = page.text[page.text.index('id="servers"'):].split("</table>")[0]
    assert "mastodon.test" in servers and "gts.test" not in servers  # one follower there: folded
    download = await browser.session.get(browser.url("/editor/reach/stadt.csv"))
    rows = list(csv.reader(io.StringIO(await download.text())))
    assert ["followers_by_server", "mastodon.test", "5"] in rows and ["followers_by_server", "other", "1"] in rows
    assert ["feed_subscribers", "Feedly /@stadt.rss", "42"] in rows
    figures = await (await browser.session.get(browser.url("/editor/reach/stadt.json"))).json()
    assert figures["followers"] == 6 and figures["posts"][0]["voters"] == 2
    status = await (await stadt.get(f"/api/v1/statuses/{post_id}")).json()
    assert (status["favourites_count"], status["reblogs_count"], status["replies_count"]) == (1, 1, 0)


async def test_an_editor_sees_only_the_reach_of_their_accounts(stadt, browsers):
    browser = await editor(browsers, stadt.app[SESSIONS], "erika", actors=("stadt",))
    assert (await browser.get("/editor/reach/feuerwehr")).status == 404
    assert (await browser.get("/editor/reach/feuerwehr.csv")).status == 404
    anonymous = browsers()
    assert (await anonymous.get("/editor/reach")).status in (302, 303, 401)


async def test_platform_figures_show_apart_with_their_date(stadt, browsers):
    """What the backfeed job stored (tests/bridge/platforms/test_platform_metrics.py fetches it), the platform's
    native poll included, is shown in its own table, labelled by platform, with the date; the fediverse columns
    stay as they are."""
    browser = await editor(browsers, stadt.app[SESSIONS], "erika")
    post_id = post_id_from(await browser.post("/editor/compose", compose_form("Neue Buslinie ab Montag")))
    fetched = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)
    async with stadt.app[SESSIONS].begin() as session:
        session.add(PlatformSend(post_id=post_id, platform_id="bsky", state=SendState.SENT, handle="h1",
                                 remote_id="at://did:plc:stadt/app.bsky.feed.post/1",
                                 metrics={"likes": 7, "reposts": 2, "replies": 1, "poll": [3, 1]},
                                 metrics_at=fetched))
    page = await browser.get("/editor/reach")
    assert page.status == 200 and page.has("Figures reported by the platforms")
    row = page.text[page.text.index(f'id="platform-{post_id}-bsky"'):].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("<")[0] for c in row.split("<td")[3:]]
    assert cells[:6] == ["7", "2", "1", "–", "–", "4 (3 / 1)"] and "2026" in cells[6]
    fediverse = page.text[page.text.index(f'id="post-{post_id}"'):].split("</tr>")[0]
    assert ">7<" not in fediverse
    download = await browser.session.get(browser.url("/editor/reach/stadt.csv"))
    rows = list(csv.reader(io.StringIO(await download.text())))
    assert [str(post_id), "bsky", fetched.isoformat(), "7", "2", "1", "", "", "3 1"] in rows


def _poll_form():
    form = compose_form("Soll die Bibliothek sonntags öffnen?")
    for i, option in enumerate(("Ja", "Nein")):
        form.add_field(f"poll_option{i}", option)
    return form
