"""What readers, other systems and the admin see of the warnings: `/warnings`, the permalink with its CAP fields,
`/warnings/{id}.cap` (CAP 1.2, read back by our own CAP reader), `/warnings.atom`, `/admin/warnings`; and
`stadtbote warnings poll` as an administrator runs it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from defusedxml.ElementTree import fromstring
from sqlalchemy import select

from bridge.appkeys import CONFIG, SESSIONS
from bridge.store.models import Actor, Post
from bridge.store.warnings import OfficialWarning, WarningPost
from bridge.warnings import polls
from bridge.warnings.cap import Message, message_from_element, parse_xml
from fakes.warnings import source_tables
from support.public import editor, publish
from support.web import admin_ready, signed_in, visitors  # noqa: F401
from testkit import write_config

ATOM = "{http://www.w3.org/2005/Atom}"


async def poll(client, source_id: str) -> None:
    async with client.app[SESSIONS]() as session:
        await polls.poll_job(client.app[CONFIG], session, {"source": source_id})
        await session.commit()


async def test_the_warnings_page_the_permalink_and_the_cap_and_atom_documents(client, sources):
    sources.show("dwd", "dwd_wind_1.xml")
    sources.show("cap", "cap_flood_1.xml")
    await poll(client, "dwd")
    await poll(client, "kreis")
    sources.show("cap", "cap_flood_3.xml")  # the all-clear: the flood warning is lifted, shown as recent
    await poll(client, "kreis")
    async with client.app[SESSIONS]() as session:
        wind, flood = (await session.scalars(select(OfficialWarning).order_by(OfficialWarning.id))).all()

    page = await client.get("/warnings")
    html = await page.text()
    assert page.status == 200 and "Set-Cookie" not in page.headers
    assert html.index("Amtliche UNWETTERWARNUNG vor ORKANARTIGEN BÖEN") < html.index("Hochwasser an der Geeste</a> (lifted")
    assert 'href="http://stadt.test/warnings.atom"' in html

    permalink = await (await client.get(f"/warnings/{wind.id}")).text()
    for shown in ("Es treten orkanartige Böen", "Halten Sie Abstand", "Deutscher Wetterdienst", "Immediate",
                  "Likely", "Stadt Bremerhaven", wind.identifier, "Official WARNING of SEVERE GUSTS"):
        assert shown in permalink
    assert (await client.get("/warnings/999999")).status == 404

    cap = await client.get(f"/warnings/{wind.id}.cap")
    assert cap.status == 200 and cap.content_type == "application/cap+xml"
    message = parse_xml(await cap.read())
    assert isinstance(message, Message) and message.identifier == wind.identifier
    assert message.sender == "opendata@dwd.de" and message.info().severity == "Severe"
    assert [i.language for i in message.infos] == ["de-DE", "en-GB"]

    atom = await client.get("/warnings.atom")
    feed = fromstring(await atom.read())
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}id").text for e in entries] == [f"http://stadt.test/warnings/{flood.id}",
                                                          f"http://stadt.test/warnings/{wind.id}"]
    related = [link.get("href") for e in entries for link in e.findall(f"{ATOM}link") if link.get("rel") == "related"]
    assert related == [f"http://stadt.test/warnings/{flood.id}.cap", f"http://stadt.test/warnings/{wind.id}.cap"]
    embedded = message_from_element(entries[1].find(f"{ATOM}content")[0])
    assert isinstance(embedded, Message) and embedded.identifier == wind.identifier


async def test_the_admin_sees_each_sources_last_poll_result_and_next_poll(client, sessions, visitors, sources):
    sources.show("nina", "nina_storm_1.json")
    sources.fail("dwd", "down")
    await poll(client, "nina")
    await poll(client, "dwd")
    admin = await signed_in(visitors(), sessions, await admin_ready(sessions))
    page = await admin.get("/admin/warnings")
    assert page.status == 200
    for shown in ("nina (nina)", "dwd (dwd)", "kreis (cap)", "pegel (pegelonline)", "posted 1", "HTTP 503",
                  "1 failed polls in a row"):
        assert page.has(shown), shown
    assert 'title="http_error"' in page.text
    editor_only = await visitors().get("/admin/warnings")
    assert editor_only.status in (302, 303, 401, 403) or "signin" in editor_only.text


async def test_the_poll_verb_prints_what_each_source_did(tmp_path, empty_db_url, sources):
    tables = source_tables(sources.base)
    extra = "\n[federation]\nallow_private_addresses = true\n" + "".join(_toml(t) for t in tables)
    config = write_config(tmp_path, empty_db_url, extra=extra)
    sources.show("nina", "nina_storm_1.json")
    sources.show("pegel", "pegelonline_level_1.json")
    sources.fail("cap", "garbage")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])}

    async def run(*argv: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bridge", *argv, "--config", str(config),
                                                       stdout=asyncio.subprocess.PIPE,
                                                       stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path)
        out, err = await process.communicate()
        return process.returncode, out.decode(), err.decode()

    assert (await run("db", "upgrade"))[0] == 0
    code, out, _ = await run("warnings", "poll")
    assert code == 0
    assert out.splitlines() == ["nina: polled — posted 1", "dwd: polled — the source was read",
                                "kreis: invalid_xml — the source's answer is not valid (or not safe) XML",
                                "pegel: polled — the source was read"]
    code, out, _ = await run("warnings", "poll", "--source", "nina")
    assert code == 0 and out.splitlines() == ["nina: not_modified — the source has not changed since the last poll"]
    code, _, err = await run("warnings", "poll", "--source", "nope")
    assert code == 1 and err.strip() == "stadtbote: no warnings source 'nope' is configured"


def _toml(table: dict) -> str:
    def value(v):
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        return str(v) if isinstance(v, int) else f'"{v}"'
    return "\n[[warnings]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in table.items())


async def test_a_warnings_post_shows_the_cap_fields_on_its_own_permalink(client, sources):
    sources.show("dwd", "dwd_wind_1.xml")
    await poll(client, "dwd")
    async with client.app[SESSIONS]() as session:
        wind = await session.scalar(select(OfficialWarning))
        posts = (await session.execute(select(Post.id, Actor.name).join(Actor, Post.actor_id == Actor.id)
                                       .where(Post.id.in_(wind.post_ids)))).all()
    assert posts
    async with client.app[SESSIONS]() as session:  # the permalink finds the warning by the post's key
        linked = dict((await session.execute(select(WarningPost.post_id, WarningPost.warning_id))).all())
    assert linked == {p: wind.id for p in wind.post_ids}
    post_id, name = posts[0]
    first = await client.get(f"/@{name}/{post_id}")
    html = await first.text()
    assert first.status == 200 and "Official warning" in html and f'href="http://stadt.test/warnings/{wind.id}"' in html
    for shown in ("Deutscher Wetterdienst", "Immediate", "Likely", wind.identifier):
        assert shown in html, shown
    # The warning changes (an update of its CAP fields): the post's page, cached by its account's version, follows.
    async with client.app[SESSIONS].begin() as session:
        row = await session.get(OfficialWarning, wind.id)
        row.fields = {**row.fields, "senderName": "Wetterdienst Nord"}
    changed = await client.get(f"/@{name}/{post_id}", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status == 200 and "Wetterdienst Nord" in await changed.text()


async def test_an_ordinary_post_has_no_warning_block(client, sessions, config, test_password_hash):
    post_id = await publish(sessions, config, await editor(sessions, test_password_hash), "Die Brücke ist gesperrt")
    html = await (await client.get(f"/@stadt/{post_id}")).text()
    assert "Die Brücke ist gesperrt" in html and "official-warning" not in html
