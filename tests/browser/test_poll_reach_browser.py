"""In Chromium, in German, at a desktop width and at a phone's: an editor attaches a poll (a mistake first
comes back next to the poll), the tally is set as votes leave it (the votes themselves are tested in
tests/bridge/inbound/test_inbox_votes.py), the results show on the editor's and the public page as a table
with bars, and the editor closes the poll; an event (an end before the start first comes back) shows when
and where on its public page; the reach page shows its chart and tables. Nothing scrolls sideways, and no
page runs a script."""

from __future__ import annotations

import re

import pytest

from bridge.auth.users import create_user
from bridge.store.polls import Poll

pytestmark = pytest.mark.browser
WIDTHS = [pytest.param(1280, id="desktop"), pytest.param(390, id="phone")]


@pytest.fixture
def config(make_config, port):
    """A German authority: the instance's language is German, so every page is, signed in or not."""
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}",
                                 "language": "de"})


async def assert_fits(page) -> None:
    scroll, client = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"{page.url} is {scroll} px wide in a {client} px window"


async def german_editor(chromium, server, sessions, width: int):
    async with sessions.begin() as session:
        user, _ = await create_user(session, "erika", "editor", ["stadt"], password="erika-passwort-123")
        user.must_change_password, user.language = False, "de"
    context = await chromium.new_context(base_url=server, locale="de-DE", viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto("/signin")
    await page.get_by_label("Benutzername").fill("erika")
    await page.get_by_label("Passwort").fill("erika-passwort-123")
    await page.get_by_role("button", name="Anmelden").click()
    await page.wait_for_url(re.compile(r"/editor$"))
    return page


@pytest.mark.parametrize("width", WIDTHS)
async def test_an_editor_creates_a_poll_and_sees_the_results(chromium, server, sessions_for_server, tmp_path,
                                                            width):
    page = await german_editor(chromium, server, sessions_for_server, width)
    await page.get_by_role("link", name="Neuer Beitrag").click()
    await page.get_by_label("Text", exact=True).fill("Wie soll der neue Platz am Rathaus heißen?")
    await page.get_by_label("Antwort 1").fill("Rosenplatz")
    await page.get_by_label("Antwort 2").fill("Rosenplatz")  # a mistake: the form comes back with it
    await page.get_by_label("Die Umfrage läuft").select_option(label="3 Tage")
    await page.get_by_role("button", name="Veröffentlichen").click()
    problem = page.locator("#poll-problem")
    await problem.wait_for()
    assert "Zwei Antworten sind gleich" in await problem.inner_text()
    assert await page.get_by_label("Antwort 1").input_value() == "Rosenplatz"
    await assert_fits(page)
    await page.get_by_label("Antwort 2").fill("Marktplatz")
    await page.get_by_label("Antwort 3").fill("Platz der Vielfalt")
    await page.get_by_role("button", name="Veröffentlichen").click()
    await page.wait_for_url(re.compile(r"/editor/posts/\d+$"))
    post_id = int(page.url.rsplit("/", 1)[1])
    async with sessions_for_server.begin() as session:  # as three votes from the fediverse would leave it
        poll = await session.get(Poll, post_id)
        poll.counts, poll.voters_count = [2, 1, 0], 3
    await page.reload()
    assert await page.get_by_role("heading", name="Umfrage").is_visible()
    assert await page.get_by_role("link", name="Ergebnis als CSV (für den Rat)").is_visible()
    await assert_fits(page)
    await page.goto(f"/@stadt/{post_id}")
    table = page.get_by_role("table")
    await table.wait_for()
    rows = await table.get_by_role("row").all_inner_texts()
    assert any("Rosenplatz" in r and "2" in r and "67 %" in r for r in rows)
    assert await page.locator("script").count() == 0
    await assert_fits(page)
    await page.screenshot(path=str(tmp_path / f"poll-{width}.png"), full_page=True)
    await page.goto(f"/editor/posts/{post_id}")
    await page.get_by_role("button", name="Umfrage jetzt beenden").click()
    await page.wait_for_url(re.compile(rf"/editor/posts/{post_id}"))
    assert await page.get_by_text("Die Umfrage ist beendet.").is_visible()


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_reach_page_has_charts_and_tables_in_german(chromium, server, sessions_for_server, tmp_path,
                                                             width):
    page = await german_editor(chromium, server, sessions_for_server, width)
    await page.get_by_role("link", name="Neuer Beitrag").click()
    await page.get_by_label("Text", exact=True).fill("Die Bibliothek öffnet am Sonntag.")
    await page.get_by_role("button", name="Veröffentlichen").click()
    await page.wait_for_url(re.compile(r"/editor/posts/\d+$"))
    await page.get_by_role("link", name="Reichweite").click()
    await page.get_by_role("heading", name="Reichweite von stadt").wait_for()
    assert await page.locator("svg.chart").count() == 1
    await page.get_by_text("Seitenaufrufe je Tag als Tabelle").click()
    assert await page.get_by_role("table").first.is_visible()
    assert "Die Bibliothek öffnet am Sonntag." in await page.locator("#posts").inner_text()
    assert await page.get_by_role("link", name="Als CSV exportieren").is_visible()
    assert await page.locator("script").count() == 0
    await assert_fits(page)
    await page.screenshot(path=str(tmp_path / f"reach-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
async def test_an_editor_announces_an_event_and_readers_see_when_and_where(chromium, server, sessions_for_server,
                                                                          tmp_path, width):
    page = await german_editor(chromium, server, sessions_for_server, width)
    await page.get_by_role("link", name="Neuer Beitrag").click()
    await page.get_by_label("Text", exact=True).fill("Wir laden zur Bürgerversammlung über neue Radwege ein.")
    await page.get_by_label("Titel der Veranstaltung").fill("Bürgerversammlung Radverkehr")
    await page.get_by_label("Beginn").fill("2027-03-04T18:00")
    await page.get_by_label("Ende (optional)").fill("2027-03-04T17:00")  # a mistake: before the start
    await page.get_by_label("Ort (optional)").fill("Ratssaal")
    await page.get_by_role("button", name="Veröffentlichen").click()
    problem = page.locator("#event-problem")
    await problem.wait_for()
    assert "endet, bevor sie beginnt" in await problem.inner_text()
    assert await page.get_by_label("Ort (optional)").input_value() == "Ratssaal"
    await assert_fits(page)
    await page.get_by_label("Ende (optional)").fill("2027-03-04T20:30")
    await page.get_by_role("button", name="Veröffentlichen").click()
    await page.wait_for_url(re.compile(r"/editor/posts/\d+$"))
    post_id = int(page.url.rsplit("/", 1)[1])
    await page.goto(f"/@stadt/{post_id}")
    assert await page.get_by_role("heading", name="Bürgerversammlung Radverkehr").is_visible()
    text = await page.locator("section.event").inner_text()
    assert "Wann" in text and "Ratssaal" in text and "2027" in text
    assert await page.get_by_role("link", name="Alle Veranstaltungen dieses Kontos als Kalender (iCalendar)").is_visible()
    assert await page.locator("script").count() == 0
    await assert_fits(page)
    await page.screenshot(path=str(tmp_path / f"event-{width}.png"), full_page=True)
