"""The compose form shows every reason of the post service at once, next to its field, and keeps what was
typed; schedules outside what a date can sensibly be are refused by the form and the API alike."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from support.api import bearer, make_token  # noqa: F401
from support.web import add_image, compose_form, count_posts, editor, image_bytes, visitors  # noqa: F401


async def test_every_problem_is_shown_at_once_next_to_its_field(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    text = "Sperrung " + "a" * 495
    form = add_image(compose_form(text, spoiler_text="W" * 501, publish_at="2020-01-01T10:00"), 0, image_bytes())
    page = await browser.post("/editor/compose", form)
    assert page.status == 422
    for message, field in (("The text has 1005 characters; at most 500 are allowed.", "text"),
                           ("The content warning may have at most 500 characters.", "spoiler_text"),
                           ("Image 1 needs alt text that describes it, or mark it as decorative.", "alt0"),
                           ("Publish at: the time must be in the future.", "publish_at")):
        assert page.has(message), message
        assert f'id="{field}-problem"' in page.text, field
    assert f">{text}</textarea>" in page.text and 'value="2020-01-01T10:00"' in page.text
    assert await count_posts(sessions) == 0


@pytest.mark.parametrize("typed, message", [
    ("0001-01-01T00:30", "Publish at: the time must be in the future."),
    ("9999-12-31T23:59", "Publish at: the time may be at most two years ahead."),
    ("10000-01-01T00:00", "Publish at: enter a date and a time."),
])
async def test_a_schedule_out_of_range_comes_back_with_a_reason(visitors, sessions, typed, message):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.post("/editor/compose", compose_form("Irgendwann", publish_at=typed))
    assert page.status == 422 and page.has(message)
    assert f'value="{typed}"' in page.text and ">Irgendwann</textarea>" in page.text
    assert await count_posts(sessions) == 0


async def test_a_schedule_more_than_two_years_ahead_is_refused_in_the_form(visitors, sessions, config):
    browser = await editor(visitors, sessions, "erika")
    later = (datetime.now(config.tz) + timedelta(days=740)).strftime("%Y-%m-%dT10:00")
    page = await browser.post("/editor/compose", compose_form("Jubiläum", publish_at=later))
    assert page.status == 422 and page.has("Publish at: the time may be at most two years ahead.")
    soon = (datetime.now(config.tz) + timedelta(days=700)).strftime("%Y-%m-%dT10:00")
    assert (await browser.post("/editor/compose", compose_form("Jubiläum", publish_at=soon))).status == 303


@pytest.mark.parametrize("scheduled_at, code", [
    ("9999-12-31T23:59:59", "schedule_too_far"),
    ("9999-12-31T23:59:59-12:00", "schedule_unreadable"),  # beyond what a date holds in UTC
    ("0001-01-01T00:00:00+14:00", "schedule_unreadable"),
])
async def test_the_api_refuses_a_schedule_out_of_range_with_a_reason_code(client, sessions, scheduled_at, code):
    token = await make_token(sessions)
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Irgendwann", "scheduled_at": scheduled_at})
    assert response.status == 422
    body = await response.json()
    assert body["error"].startswith("Validation failed: scheduled_at") or "two years" in body["error"]
    assert [d["error"] for d in body["details"]["scheduled_at"]] == [code]
    assert await count_posts(sessions) == 0
    assert (await client.get("/@stadt")).status == 200 and (await client.get("/@stadt.rss")).status == 200


async def test_the_api_names_every_reason(client, sessions):
    token = await make_token(sessions)
    later = (datetime.now(timezone.utc) + timedelta(days=900)).isoformat()
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "a" * 501, "language": "xx", "scheduled_at": later})
    body = await response.json()
    assert response.status == 422
    assert {k: [d["error"] for d in v] for k, v in body["details"].items()} == {
        "status": ["too_long"], "language": ["invalid_language"], "scheduled_at": ["schedule_too_far"]}
    assert body["error"] == ("Validation failed: unsupported language; the text is longer than allowed; "
                             "the scheduled time may be at most two years ahead")


async def test_an_over_long_alt_text_is_named_beside_its_image_and_the_image_kept(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.post("/editor/compose", add_image(compose_form("Bild"), 0, image_bytes(), alt="a" * 1501))
    assert page.status == 422
    assert page.has("The alt text of image 1 may have at most 1500 characters.")
    assert 'id="alt0-problem"' in page.text and ">" + "a" * 1501 + "</textarea>" in page.text
    media_id = re.search(r'name="media0" value="(\d+)"', page.text).group(1)  # no second upload needed
    form = compose_form("Bild", media0=media_id, alt0="Das Rathaus")
    assert (await browser.post("/editor/compose", form)).status == 303
