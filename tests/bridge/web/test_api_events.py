"""Events through the API (Stadtbote's extension of POST /api/v1/statuses, docs/api.md): `event[...]`
parameters (or a JSON `event` object) read into the editor form's fields and checked by the same rules; the
event reaches the account's iCalendar feed, the status carries its facts; a broken rule is a 422 with its code."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import icalendar
import pytest

from support.api import bearer, make_token

EVENT = [("status", "Bürgerversammlung zu den neuen Radwegen. Alle sind eingeladen."),
         ("event[title]", "Bürgerversammlung Radverkehr"), ("event[start]", "2027-03-04T18:00"),
         ("event[end]", "2027-03-04T20:30"), ("event[timezone]", "Europe/Berlin"), ("event[place]", "Ratssaal"),
         ("event[address]", "Marktplatz 1"), ("event[online_url]", "https://stream.musterstadt.test/rat")]


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


def vevents(text: str) -> list:
    return list(icalendar.Calendar.from_ical(text).walk("VEVENT"))


async def test_an_event_posted_through_the_api_reaches_the_calendar_and_the_status_says_what_and_when(
        client, token):
    response = await client.post("/api/v1/statuses", headers=bearer(token), data=EVENT)
    assert response.status == 200, await response.text()
    status = await response.json()
    event = status["stadtbote"]["event"]
    assert event["title"] == "Bürgerversammlung Radverkehr" and event["start"] == "2027-03-04T17:00:00Z"
    assert event["end"] == "2027-03-04T19:30:00Z" and event["place"] == "Ratssaal" and not event["cancelled"]
    assert event["calendar"].endswith("/@stadt.ics")
    assert "Bürgerversammlung Radverkehr" in status["content"] and "2027-03-04 18:00–20:30" in status["content"]
    calendar = await client.get("/@stadt.ics")
    [item] = vevents(await calendar.text())
    assert str(item["summary"]) == "Bürgerversammlung Radverkehr"
    assert item.decoded("dtstart") == datetime(2027, 3, 4, 17, 0, tzinfo=timezone.utc)
    assert item.decoded("dtend") == datetime(2027, 3, 4, 19, 30, tzinfo=timezone.utc)
    assert "Marktplatz 1" in str(item["location"])
    shown = await (await client.get(f"/api/v1/statuses/{status['id']}")).json()
    assert shown["stadtbote"]["event"] == event


async def test_a_json_event_with_an_offset_and_an_all_day_event(client, token):
    response = await client.post("/api/v1/statuses", headers={**bearer(token), "Content-Type": "application/json"},
                                 data=json.dumps({"status": "Sprechstunde", "event": {
                                     "title": "Sprechstunde", "start": "2027-05-02T09:00:00+02:00"}}))
    assert response.status == 200, await response.text()
    assert (await response.json())["stadtbote"]["event"]["start"] == "2027-05-02T07:00:00Z"
    response = await client.post("/api/v1/statuses", headers=bearer(token), data=[
        ("status", "Stadtfest"), ("event[title]", "Stadtfest"), ("event[start]", "2027-06-12"),
        ("event[all_day]", "true")])
    assert response.status == 200, await response.text()
    items = {str(i["summary"]): i for i in vevents(await (await client.get("/@stadt.ics")).text())}
    assert str(items["Stadtfest"].decoded("dtstart")) == "2027-06-12"


@pytest.mark.parametrize("changes, field_reason", [
    ({"event[end]": "2027-03-04T17:00"}, "event_ends_before_start"),
    ({"event[timezone]": "Europe/Atlantis"}, "event_bad_timezone"),
    ({"event[title]": ""}, "event_no_title"),
    ({"event[online_url]": "javascript:alert(1)"}, "event_bad_link"),
])
async def test_an_event_breaking_a_rule_is_refused_with_its_reason(client, token, changes, field_reason):
    data = [(k, changes.get(k, v)) for k, v in EVENT]
    response = await client.post("/api/v1/statuses", headers=bearer(token), data=data)
    assert response.status == 422
    body = await response.json()
    assert [d["error"] for d in body["details"]["event"]] == [field_reason] and body["error"].startswith("Validation")
    assert vevents(await (await client.get("/@stadt.ics")).text()) == []


async def test_an_unreadable_end_or_event_object_is_a_422_not_a_server_error(client, token):
    data = [(k, "morgen" if k == "event[end]" else v) for k, v in EVENT]
    response = await client.post("/api/v1/statuses", headers=bearer(token), data=data)
    assert response.status == 422 and "event[end]" in (await response.json())["error"]
    response = await client.post("/api/v1/statuses", headers={**bearer(token), "Content-Type": "application/json"},
                                 data=json.dumps({"status": "x", "event": ["Sprechstunde"]}))
    assert response.status == 422
