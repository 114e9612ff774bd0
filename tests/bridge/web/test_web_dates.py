"""Times on the editorial pages: Babel's formats in the reader's language and the instance's zone, and a
rendering that cannot fail, whatever a row holds (a post scheduled for 9999-12-31 once made pages 500)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bridge.publishing.posts import Draft, create_post
from bridge.store.models import Post, User
from bridge.web.filters import format_day, format_when
from support.web import editor, set_rows, visitors  # noqa: F401

BERLIN = ZoneInfo("Europe/Berlin")
EXTREMES = [datetime.max, datetime.min, datetime.max.replace(tzinfo=timezone.utc), datetime.min.replace(tzinfo=timezone.utc),
            datetime.max.replace(tzinfo=timezone(timedelta(hours=-23, minutes=-59))),
            datetime.min.replace(tzinfo=timezone(timedelta(hours=23, minutes=59))),
            datetime(9999, 12, 31, 23, 59, 59), date.min, date.max, None, "", "kein Datum", 12]


def test_a_time_is_said_the_german_way_in_the_towns_zone():
    moment = datetime(2026, 12, 4, 16, 30, tzinfo=timezone.utc)
    assert format_when(moment, BERLIN, "de") == "4. Dez. 2026, 17:30 MEZ"
    assert format_when(moment.replace(tzinfo=None), BERLIN, "de") == "4. Dez. 2026, 17:30 MEZ"  # naive is UTC
    assert format_when(datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc), BERLIN, "de") == "1. Juli 2026, 12:00 MESZ"
    assert format_when(moment, BERLIN, "en").startswith("Dec 4, 2026, 5:30")
    assert format_when("2026-12-04T16:30:00+00:00", BERLIN, "de") == "4. Dez. 2026, 17:30 MEZ"  # export documents
    assert format_day(date(2026, 2, 28), "de") == "28. Feb. 2026"


@pytest.mark.parametrize("value", EXTREMES, ids=repr)
@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("zone", [BERLIN, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago"), timezone.utc])
def test_no_value_makes_rendering_fail(value, language, zone):
    said = format_when(value, zone, language)
    assert isinstance(said, str) and isinstance(format_day(value, language), str)
    if isinstance(value, datetime) and value.year == 9999:
        assert "9999" in said


def test_the_end_of_the_calendar_is_said_in_utc_where_the_zone_would_leave_it():
    assert format_when(datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc), BERLIN, "de") == "31. Dez. 9999, 23:59 UTC"
    assert format_when(datetime(1, 1, 1, 0, 0, tzinfo=timezone.utc), ZoneInfo("America/New_York"), "de") \
        == "1. Jan. 1, 00:00 UTC"


async def test_a_post_scheduled_for_9999_does_not_break_its_pages(visitors, sessions, config):
    erika = await editor(visitors, sessions, "erika")
    async with sessions.begin() as session:
        user = await session.scalar(select(User).where(User.name == "erika"))
        post = (await create_post(session, config, user, Draft(actor="stadt", text="Ganz weit weg"))).post
    await set_rows(sessions, update(Post).where(Post.id == post.id).values(
        state="scheduled", scheduled_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc), published_at=None))
    await erika.post("/language", {"language": "de"})
    for path in ("/editor/actors/stadt", f"/editor/posts/{post.id}", f"/editor/posts/{post.id}/edit"):
        page = await erika.get(path)
        assert page.status == 200, path
    assert (await erika.get("/editor/actors/stadt")).has("31. Dez. 9999, 23:59 UTC")
    shown = await erika.get(f"/editor/posts/{post.id}")
    assert shown.has("Geplant für") and shown.has("31. Dez. 9999, 23:59 UTC")
    assert 'value="9999-12-31T23:59"' in (await erika.get(f"/editor/posts/{post.id}/edit")).text


async def test_editor_pages_show_babel_dates_not_iso(visitors, sessions, config):
    erika = await editor(visitors, sessions, "erika")
    async with sessions.begin() as session:
        user = await session.scalar(select(User).where(User.name == "erika"))
        post = (await create_post(session, config, user, Draft(actor="stadt", text="Heute"))).post
    await set_rows(sessions, update(Post).where(Post.id == post.id).values(
        created_at=datetime(2026, 12, 4, 16, 30, tzinfo=timezone.utc), published_at=datetime(2026, 12, 4, 16, 30, tzinfo=timezone.utc)))
    await erika.post("/language", {"language": "de"})
    page = await erika.get(f"/editor/posts/{post.id}")
    assert page.has("4. Dez. 2026, 17:30 MEZ") and not page.has("2026-12-04")


@pytest.mark.parametrize("start, end, all_day, said", [
    ((2026, 12, 20, 17), (2026, 12, 20, 22), False, "20. Dez. 2026, 18:00–23:00 MEZ"),
    ((2026, 12, 20, 17), (2026, 12, 21, 1), False, "20. Dez. 2026, 18:00 MEZ – 21. Dez. 2026, 02:00 MEZ"),
    ((2026, 12, 20, 17), None, False, "20. Dez. 2026, 18:00 MEZ"),
    ((2026, 12, 19, 23), (2026, 12, 20, 23), True, "20. Dez. 2026 – 21. Dez. 2026"),
])
def test_an_evenings_event_names_its_day_once(start, end, all_day, said):
    from activitypub.uris import Uris
    from bridge.store.events import PostEvent
    from bridge.web.i18n import current_language, set_language
    from bridge.web.public.views import event_view

    moment = lambda parts: datetime(*parts, tzinfo=timezone.utc) if parts else None  # noqa: E731
    event = PostEvent(title="Stadtfest", starts_at=moment(start), ends_at=moment(end), all_day=all_day,
                      timezone="Europe/Berlin", place_name="Marktplatz")
    before = current_language()
    set_language("de")
    try:
        view = event_view(event, "stadt", Uris.for_base("https://stadt.example"))
    finally:
        set_language(before)
    assert view.when == said
