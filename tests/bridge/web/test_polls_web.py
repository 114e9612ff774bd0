"""Polls through the editor form and the API: the form keeps what was typed and names the problem next to
the poll, the API takes Mastodon's parameters and announces its limits, the Question goes out as Mastodon
shapes it, and the results appear on the public page, in the feeds, in the API's `poll` and as CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from activitypub.uris import Uris
from bridge.platforms.connectors.render import post_view
from bridge.publishing import polls
from bridge.store.db import utcnow
from bridge.store.models import Job, Post
from bridge.store.platforms import PlatformSend, SendState
from bridge.store.polls import Poll
from support.api import bearer, make_token
from support.web import compose_form, editor, post_id_from, visitors  # noqa: F401


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


def poll_form(text: str, *options: str, **extra):
    form = compose_form(text, **extra)
    for i, option in enumerate(options):
        form.add_field(f"poll_option{i}", option)
    return form


async def set_counts(sessions, post_id: int, counts: list[int], voters: int, **changes) -> None:
    async with sessions.begin() as session:
        poll = await session.get(Poll, post_id)
        poll.counts, poll.voters_count = counts, voters
        for key, value in changes.items():
            setattr(poll, key, value)


async def test_an_editor_attaches_a_poll_and_the_results_show_everywhere(visitors, sessions, client):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.post("/editor/compose", poll_form("Wie soll der neue Platz heißen?", "Rosenplatz",
                                                           "Marktplatz", "", poll_duration="3600"))
    post_id = post_id_from(page)
    async with sessions() as session:
        poll = await session.get(Poll, post_id)
        assert poll.options == ["Rosenplatz", "Marktplatz"] and not poll.multiple
        assert poll.expires_in == 3600 and poll.expires_at is not None
        close = await session.scalar(select(Job).where(Job.kind == polls.CLOSE_JOB, Job.post_id == post_id))
        assert close.run_at == poll.expires_at
    await set_counts(sessions, post_id, [3, 1], 4)
    public = await client.get(f"/@stadt/{post_id}")
    html = await public.text()
    assert public.status == 200 and "<table class=\"poll-results\">" in html and "<script" not in html
    assert "Rosenplatz" in html and "75 %" in html and "<svg" in html
    feed = await (await client.get("/@stadt.rss")).text()
    assert "Rosenplatz: 3 (75 %)" in feed
    status = await (await client.get(f"/api/v1/statuses/{post_id}")).json()
    assert status["poll"]["options"] == [{"title": "Rosenplatz", "votes_count": 3},
                                         {"title": "Marktplatz", "votes_count": 1}]
    assert status["poll"]["votes_count"] == 4 and status["poll"]["expired"] is False
    note = await (await client.get(f"/users/stadt/statuses/{post_id}",
                                   headers={"Accept": "application/activity+json"})).json()
    assert note["type"] == "Question" and [o["replies"]["totalItems"] for o in note["oneOf"]] == [3, 1]
    assert note["votersCount"] == 4 and "endTime" in note and "closed" not in note
    # the editor's page: results, the CSV for the council, and closing early
    page = await browser.get(f"/editor/posts/{post_id}")
    assert page.has("Rosenplatz") and f"/editor/posts/{post_id}/poll.csv" in page.text
    download = await browser.session.get(browser.url(f"/editor/posts/{post_id}/poll.csv"))
    rows = list(csv.reader(io.StringIO(await download.text())))
    assert download.headers["Content-Type"].startswith("text/csv")
    assert rows[:3] == [["source", "option", "votes", "percent", "as_of"], ["fediverse", "Rosenplatz", "3", "75", ""],
                        ["fediverse", "Marktplatz", "1", "25", ""]]
    closed = await browser.post(f"/editor/posts/{post_id}/poll/close")
    assert closed.status == 303
    async with sessions() as session:
        assert (await session.get(Poll, post_id)).closed_at is not None
    note = await (await client.get(f"/users/stadt/statuses/{post_id}",
                                   headers={"Accept": "application/activity+json"})).json()
    assert note["closed"] == note["endTime"]


async def test_platform_votes_show_apart_on_the_public_page_and_in_the_csv(visitors, sessions, client):
    """A platform's own poll (Telegram's here, as backfeed or stopPoll stored it on the send) gets its own table,
    named by the platform with the time of its counts, and its own CSV rows; the fediverse tally, the API's
    `poll` and the feed stay ours alone."""
    browser = await editor(visitors, sessions, "erika")
    post_id = post_id_from(await browser.post("/editor/compose", poll_form(
        "Wie soll der neue Platz heißen?", "Rosenplatz", "Marktplatz", poll_duration="3600")))
    await set_counts(sessions, post_id, [3, 1], 4)
    fetched = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)
    async with sessions.begin() as session:
        session.add(PlatformSend(post_id=post_id, platform_id="tg", state=SendState.SENT, handle="h", remote_id="41",
                                 remote_extra={"poll_message_id": 42}, metrics={"poll": [10, 30]},
                                 metrics_at=fetched))
    assert (await browser.post("/language", {"language": "de"})).status == 303
    html = (await browser.get(f"/@stadt/{post_id}")).text
    ours = html[html.index('id="poll-'):html.index('class="poll poll-platform"')]
    assert "75 %" in ours and ">30<" not in ours  # the fediverse table: our 3 and 1, nothing added
    theirs = html[html.index('class="poll poll-platform"'):]
    theirs = theirs[:theirs.index("</section>")]
    assert "Umfrage auf tg" in theirs and "Stand: 3. Dez. 2026" in theirs
    assert "<td>30</td><td>75 %</td>" in theirs and "<caption" in theirs and "<th scope=\"row\">" in theirs
    own = (await browser.get(f"/editor/posts/{post_id}")).text  # the editor's page of the post shows both too
    assert 'class="poll poll-platform"' in own and "Umfrage auf tg" in own and "<td>30</td><td>75 %</td>" in own
    status = await (await client.get(f"/api/v1/statuses/{post_id}")).json()
    assert status["poll"]["votes_count"] == 4  # the API's poll stays the fediverse tally
    rows = list(csv.reader(io.StringIO(await (await browser.session.get(
        browser.url(f"/editor/posts/{post_id}/poll.csv"))).text())))
    assert ["fediverse", "Rosenplatz", "3", "75", ""] in rows
    assert ["tg (tg)", "Marktplatz", "30", "75", "2026-12-03T09:30:00Z"] in rows
    assert ["tg (tg)", "votes", "40", "", "2026-12-03T09:30:00Z"] in rows


async def test_a_poll_with_problems_comes_back_with_everything_typed(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.post("/editor/compose", poll_form("Abstimmung", "Ja", "Ja", poll_duration="9",
                                                           poll_multiple="1"))
    assert page.status == 422
    assert 'id="poll-problem"' in page.text
    assert 'name="poll_option0" value="Ja"' in page.text and 'id="poll_multiple" name="poll_multiple" value="1" checked' in page.text
    async with sessions() as session:
        assert (await session.scalars(select(Post))).all() == []


async def test_hidden_totals_stay_hidden_until_the_end(visitors, sessions, client):
    browser = await editor(visitors, sessions, "erika")
    post_id = post_id_from(await browser.post("/editor/compose", poll_form(
        "Geheim bis zum Schluss", "A", "B", poll_hide_totals="1")))
    await set_counts(sessions, post_id, [2, 5], 7)
    status = await (await client.get(f"/api/v1/statuses/{post_id}")).json()
    assert [o["votes_count"] for o in status["poll"]["options"]] == [None, None]
    html = await (await client.get(f"/@stadt/{post_id}")).text()
    assert "poll-results" not in html
    await set_counts(sessions, post_id, [2, 5], 7, expires_at=utcnow() - timedelta(seconds=1))
    status = await (await client.get(f"/api/v1/statuses/{post_id}")).json()
    assert [o["votes_count"] for o in status["poll"]["options"]] == [2, 5] and status["poll"]["expired"]


async def test_the_api_takes_mastodons_poll_parameters_and_announces_its_limits(client, token, sessions):
    limits = (await (await client.get("/api/v2/instance")).json())["configuration"]["polls"]
    assert limits == {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300,
                      "max_expiration": 2629746}
    response = await client.post("/api/v1/statuses", headers=bearer(token), data=[
        ("status", "Welcher Termin?"), ("poll[options][]", "Montag"), ("poll[options][]", "Dienstag"),
        ("poll[expires_in]", "86400"), ("poll[multiple]", "true")])
    assert response.status == 200, await response.text()
    poll = (await response.json())["poll"]
    assert poll["multiple"] is True and [o["title"] for o in poll["options"]] == ["Montag", "Dienstag"]
    response = await client.post("/api/v1/statuses", headers={**bearer(token), "Content-Type": "application/json"},
                                 data=json.dumps({"status": "JSON", "poll": {"options": ["a", "b"],
                                                                             "expires_in": 600}}))
    assert response.status == 200 and (await response.json())["poll"]["multiple"] is False


@pytest.mark.parametrize("fields, reason", [
    ([("poll[options][]", "nur eine"), ("poll[expires_in]", "600")], "poll_too_few_options"),
    ([("poll[options][]", x) for x in "abcde"] + [("poll[expires_in]", "600")], "poll_too_many_options"),
    ([("poll[options][]", "a" * 51), ("poll[options][]", "b"), ("poll[expires_in]", "600")], "poll_option_too_long"),
    ([("poll[options][]", "a"), ("poll[options][]", "b"), ("poll[expires_in]", "60")], "poll_too_short"),
    ([("poll[options][]", "a"), ("poll[options][]", "b"), ("poll[expires_in]", "99999999")], "poll_too_long"),
])
async def test_the_api_refuses_polls_beyond_the_limits_with_a_reason(client, token, fields, reason):
    response = await client.post("/api/v1/statuses", headers=bearer(token), data=[("status", "x"), *fields])
    assert response.status == 422
    assert reason in [d["error"] for d in (await response.json())["details"]["poll"]]


async def test_an_unreadable_expiry_is_a_422_not_a_crash(client, token):
    response = await client.post("/api/v1/statuses", headers=bearer(token), data=[
        ("status", "x"), ("poll[options][]", "a"), ("poll[options][]", "b"), ("poll[expires_in]", "morgen")])
    assert response.status == 422


async def test_platform_mirrors_get_a_link_to_the_poll_not_merged_counts(visitors, sessions, config):
    browser = await editor(visitors, sessions, "erika")
    post_id = post_id_from(await browser.post("/editor/compose", poll_form("Neuer Spielplatz?", "Ja", "Nein")))
    async with sessions() as session:
        post = await session.get(Post, post_id)
        view = post_view(post, config, Uris.for_base(config.instance.base_url))
    assert view.text.startswith("Neuer Spielplatz?") and view.text.endswith(f"🗳️ {view.permalink}")
