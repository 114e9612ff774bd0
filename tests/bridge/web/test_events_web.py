"""Events: an editor announces one (title, start, end, place with address, online link, description, image
with alt text); it goes to a follower's server as an AS2 Event in Mobilizon's shape, into the account's
iCalendar feed (parsed with `icalendar`) and its RSS feed; a change and the cancellation go out as Updates,
deleting the post as a Delete. A form with an end before the start or an unknown zone comes back."""

from __future__ import annotations

from datetime import datetime, timezone

import icalendar
import pytest
from sqlalchemy import select

from bridge.appkeys import SESSIONS
from bridge.store.events import PostEvent
from bridge.store.models import Job
from fakes.fediverse import mastodon_follow
from support.inbox import CITY, instances, mastodon, network, publish, run_jobs, stadt  # noqa: F401
from support.web import Visitor, add_image, compose_form, editor, image_bytes, post_id_from

EVENT = {"event_title": "Bürgerversammlung Radverkehr", "event_start": "2027-03-04T18:00",
         "event_end": "2027-03-04T20:30", "event_timezone": "Europe/Berlin", "event_place": "Ratssaal",
         "event_street": "Marktplatz 1", "event_postal_code": "12345", "event_locality": "Musterstadt",
         "event_online_url": "https://stream.musterstadt.test/rat"}


@pytest.fixture
async def browsers(stadt):
    opened: list[Visitor] = []

    def make() -> Visitor:
        opened.append(Visitor(stadt))
        return opened[-1]

    yield make
    for v in opened:
        await v.close()


def event_form(**changes):
    form = compose_form("Wir sprechen über neue Radwege. Alle sind eingeladen.", **{**EVENT, **changes})
    return add_image(form, 0, image_bytes(), alt="Fahrräder vor dem Rathaus")


def calendar_events(text: str) -> list:
    return [c for c in icalendar.Calendar.from_ical(text).walk("VEVENT")]


async def test_an_event_goes_out_as_mobilizon_does_and_into_the_calendar(stadt, mastodon, browsers):
    alice = mastodon.add_actor("alice")
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice))[0] == 202
    browser = await editor(browsers, stadt.app[SESSIONS], "erika")
    post_id = post_id_from(await browser.post("/editor/compose", event_form()))
    await run_jobs(stadt)
    [create] = [r.json for r in mastodon.received if r.json.get("type") == "Create"]
    event = create["object"]
    assert event["type"] == "Event" and event["name"] == EVENT["event_title"]
    assert event["startTime"] == "2027-03-04T17:00:00Z" and event["endTime"] == "2027-03-04T19:30:00Z"
    assert event["location"] == {"type": "Place", "name": "Ratssaal", "address": {
        "type": "PostalAddress", "streetAddress": "Marktplatz 1", "postalCode": "12345",
        "addressLocality": "Musterstadt"}}
    assert event["ical:status"] == "CONFIRMED" and event["timezone"] == "Europe/Berlin"
    assert {"type": "Link", "name": "Website", "mediaType": "text/html",
            "href": EVENT["event_online_url"]} in event["attachment"]
    assert any(a.get("name") == "Fahrräder vor dem Rathaus" for a in event["attachment"])
    assert "Radwege" in event["content"] and event["url"].endswith(f"/@stadt/{post_id}")

    response = await stadt.get("/@stadt.ics")
    assert response.status == 200 and response.content_type == "text/calendar"
    [item] = calendar_events(await response.text())
    assert str(item["summary"]) == EVENT["event_title"] and str(item["status"]) == "CONFIRMED"
    assert item.decoded("dtstart") == datetime(2027, 3, 4, 17, 0, tzinfo=timezone.utc)
    assert "Marktplatz 1" in str(item["location"])
    feed = await (await stadt.get("/@stadt.rss")).text()
    assert "Bürgerversammlung Radverkehr" in feed
    page = await (await stadt.get(f"/@stadt/{post_id}")).text()
    assert "Bürgerversammlung Radverkehr" in page and "Ratssaal" in page

    # a change, then the cancellation: each an Update of the Event; the calendar follows
    changed = await browser.post(f"/editor/posts/{post_id}/event", {**EVENT, "event_start": "2027-03-05T18:00",
                                                                    "event_end": "2027-03-05T20:00"})
    assert changed.status == 303
    await run_jobs(stadt)
    assert (await browser.post(f"/editor/posts/{post_id}/event/cancel")).status == 303
    await run_jobs(stadt)
    updates = [r.json["object"] for r in mastodon.received if r.json.get("type") == "Update"]
    assert [u["startTime"] for u in updates] == ["2027-03-05T17:00:00Z", "2027-03-05T17:00:00Z"]
    assert [u["ical:status"] for u in updates] == ["CONFIRMED", "CANCELLED"]
    assert all("updated" in u for u in updates)
    [item] = calendar_events(await (await stadt.get("/@stadt.ics")).text())
    assert str(item["status"]) == "CANCELLED"
    deleted = await browser.post(f"/editor/posts/{post_id}/delete")
    assert deleted.status in (302, 303)
    await run_jobs(stadt)
    assert any(r.json.get("type") == "Delete" for r in mastodon.received)
    assert calendar_events(await (await stadt.get("/@stadt.ics")).text()) == []


@pytest.mark.parametrize("changes, problem", [
    ({"event_end": "2027-03-04T17:00"}, "event_ends_before_start"),
    ({"event_timezone": "Mond/Krater"}, "event_bad_timezone"),
    ({"event_title": ""}, "event_no_title"),
    ({"event_online_url": "javascript:alert(1)"}, "event_bad_link"),
])
async def test_an_event_with_a_problem_comes_back_as_typed(stadt, browsers, changes, problem):
    browser = await editor(browsers, stadt.app[SESSIONS], "erika")
    page = await browser.post("/editor/compose", event_form(**changes))
    assert page.status == 422 and 'id="event-problem"' in page.text
    assert 'name="event_place" value="Ratssaal"' in page.text
    assert 'value="2027-03-04T18:00"' in page.text
    async with stadt.app[SESSIONS]() as session:
        assert (await session.scalars(select(PostEvent))).all() == []


async def test_an_all_day_event_is_a_date_in_the_calendar(stadt, browsers):
    browser = await editor(browsers, stadt.app[SESSIONS], "erika")
    form = compose_form("Stadtfest", event_title="Stadtfest", event_start="2027-06-12T00:00",
                        event_end="2027-06-13T00:00", event_all_day="1", event_timezone="Europe/Berlin")
    post_id_from(await browser.post("/editor/compose", form))
    [item] = calendar_events(await (await stadt.get("/@stadt.ics")).text())
    assert item.decoded("dtstart") == datetime(2027, 6, 12).date()
    assert item.decoded("dtend") == datetime(2027, 6, 14).date()  # exclusive: the 13th is the last day


async def test_a_four_eyes_accounts_event_change_waits_for_a_second_editor(stadt, browsers):
    post_id = await publish(stadt, "feuerwehr", "Tag der offenen Tür")
    async with stadt.app[SESSIONS].begin() as session:
        session.add(PostEvent(post_id=post_id, title="Tag der offenen Tür", timezone="Europe/Berlin",
                              starts_at=datetime(2027, 5, 1, 8, tzinfo=timezone.utc), place_name="Wache 1"))
    erika = await editor(browsers, stadt.app[SESSIONS], "erika", actors=("feuerwehr",))
    assert (await erika.get(f"/editor/posts/{post_id}/event")).status == 200
    broken = await erika.post(f"/editor/posts/{post_id}/event", {**EVENT, "event_end": "2027-03-04T17:00"})
    assert broken.status == 422  # a problem comes back at once, nothing waits
    changed = await erika.post(f"/editor/posts/{post_id}/event", {**EVENT, "event_title": "Tag der Feuerwehr"})
    assert changed.status == 303 and changed.location.endswith(f"/editor/posts/{post_id}")
    waiting = await erika.get(f"/editor/posts/{post_id}")
    assert "Tag der Feuerwehr" in waiting.text and 'id="edit-event"' in waiting.text
    assert f'action="/editor/posts/{post_id}/approve"' not in waiting.text  # nobody approves their own change
    async with stadt.app[SESSIONS]() as session:
        event = await session.get(PostEvent, post_id)
        assert (event.title, event.status) == ("Tag der offenen Tür", "confirmed")
        assert (await session.scalars(select(Job).where(Job.post_id == post_id))).all() == []
    max_ = await editor(browsers, stadt.app[SESSIONS], "max", actors=("feuerwehr",))
    page = await max_.get(f"/editor/posts/{post_id}")
    seen = page.text.split('name="content_sha256" value="', 1)[1].split('"', 1)[0]
    approved = await max_.post(f"/editor/posts/{post_id}/approve", {"content_sha256": seen})
    assert approved.status == 303
    async with stadt.app[SESSIONS]() as session:
        event = await session.get(PostEvent, post_id)
        assert (event.title, event.place_name) == ("Tag der Feuerwehr", "Ratssaal")
        assert (await session.scalars(select(Job).where(Job.post_id == post_id))).all() != []  # the Update
    assert (await erika.post(f"/editor/posts/{post_id}/event/cancel")).status == 303
    assert "The event is cancelled." in (await erika.get(f"/editor/posts/{post_id}")).text
    async with stadt.app[SESSIONS]() as session:
        assert (await session.get(PostEvent, post_id)).status == "confirmed"  # until approved
