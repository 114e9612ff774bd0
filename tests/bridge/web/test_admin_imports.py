"""Feed imports in the browser (/admin/accounts/{name}#import): added, paused, resumed and removed without a
restart; an import can carry each item's summary and mirror its posts to chosen platforms."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiohttp import web
from sqlalchemy import select

from bridge.app import create_app
from bridge.appkeys import CONFIG, SESSIONS
from bridge.publishing import feedimport
from bridge.publishing.feedimport import PollReason, item_text
from bridge.runtime.accounts import refresh
from bridge.store.models import Job, Post
from bridge.store.platforms import PlatformSend
from consent.audit import AuditEntry
from feeds.items import GuidSource, ImportedItem
from support.web import Visitor, admin_ready, signed_in

MASTO = {"id": "masto", "kind": "mastodon", "api_base": "http://mastodon.example", "access_token": "t",
         "recipient": "Mastodon gGmbH", "country": "DE", "transfer_mechanism": "none (EU)"}
SUMMARY = "Ab Montag gelten neue Öffnungszeiten im Bürgerbüro: Mo–Fr 8–18 Uhr, Sa 9–12 Uhr."


def rss(items: list[int]) -> bytes:
    entries = "".join(
        f"<item><title>Pressemitteilung {n}</title><link>https://presse.example/{n}</link>"
        f"<description>&lt;p&gt;{SUMMARY}&lt;/p&gt;</description><guid>urn:presse:{n}</guid></item>" for n in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Presse</title>{entries}</channel></rss>'.encode()


@pytest.fixture
async def press(aiohttp_server):
    state = {"items": [1, 2]}

    async def feed(request):
        return web.Response(body=rss(state["items"]), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/rss", feed)
    state["url"] = str((await aiohttp_server(app)).make_url("/rss"))
    return state


@pytest.fixture
async def site(aiohttp_client, make_config, booted):
    client = await aiohttp_client(create_app(make_config(platforms=[MASTO]), run_worker=False))
    admin = Visitor(client)
    await signed_in(admin, client.app[SESSIONS], await admin_ready(client.app[SESSIONS]))
    yield client, admin
    await admin.close()


async def poll(client, name: str = "stadt"):
    async with client.app[SESSIONS].begin() as session:
        await refresh(session, client.app[CONFIG])  # as the worker does before every job
        return await feedimport.poll_job(client.app[CONFIG], session, {"actor": name}, None)


async def actions(client) -> list[str]:
    async with client.app[SESSIONS]() as session:
        return list((await session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("import.%")).order_by(AuditEntry.seq))).all())


async def test_an_import_with_summary_and_mirror_is_added_paused_resumed_and_removed(site, press):
    client, admin = site
    await admin.get("/admin/accounts/stadt")
    page = await admin.post("/admin/accounts/stadt/import", {"url": press["url"], "summary": "on", "backfill": "on",
                                                             "mirror": "masto", "action": "save"})
    assert page.status == 303
    assert (await admin.get("/admin/accounts/stadt")).has("Running.")
    async with client.app[SESSIONS]() as session:
        assert await session.scalar(select(Job).where(Job.kind == feedimport.POLL_JOB)) is not None
    result = await poll(client)
    assert result.reason is PollReason.POSTED and result.posted == 2
    async with client.app[SESSIONS]() as session:
        posts = (await session.scalars(select(Post).order_by(Post.id))).all()
        sends = (await session.scalars(select(PlatformSend.platform_id))).all()
    assert sorted(p.text for p in posts)[0] == f"Pressemitteilung 1\n\n{SUMMARY}\n\nhttps://presse.example/1"
    assert [p.mirrors for p in posts] == [["masto"], ["masto"]] and sends == ["masto", "masto"]

    await admin.post("/admin/accounts/stadt/import", {"action": "pause"})
    assert (await admin.get("/admin/accounts/stadt")).has("Paused.")
    press["items"] = [1, 2, 3]
    assert (await poll(client)).reason is PollReason.NOT_CONFIGURED  # the chain ends while paused
    await admin.post("/admin/accounts/stadt/import", {"action": "resume"})
    assert (await poll(client)).posted == 1
    await admin.post("/admin/accounts/stadt/import", {"action": "remove"})
    page = await admin.get("/admin/accounts/stadt")
    assert 'name="url" value=""' in page.text and not page.has("Running.")
    assert await actions(client) == ["import.added", "import.paused", "import.resumed", "import.removed"]


async def test_bad_import_input_is_shown_next_to_its_field(site):
    client, admin = site
    await admin.get("/admin/accounts/stadt")
    page = await admin.post("/admin/accounts/stadt/import", {"url": "presse.example/rss", "action": "save"})
    assert page.status == 422 and 'id="url-problem"' in page.text
    page = await admin.post("/admin/accounts/stadt/import", {"url": "https://presse.example/rss",
                                                             "mirror": "unbekannt", "action": "save"})
    assert page.status == 422 and page.has("one of the chosen platforms is not connected")
    page = await admin.post("/admin/accounts/stadt/import", {"action": "pause"})
    assert page.status == 422 and page.has("this account has no feed import")
    assert await actions(client) == []


def item(title: str | None, summary: str | None, link: str | None = "https://presse.example/1") -> ImportedItem:
    return ImportedItem("urn:1", GuidSource.GUID, title, link, datetime(2026, 12, 1, tzinfo=timezone.utc), None,
                        summary, None)


@pytest.mark.parametrize(("title", "summary", "limit", "expected"), [
    ("Titel", "<p>Kurz gesagt.</p>", 500, "Titel\n\nKurz gesagt.\n\nhttps://presse.example/1"),
    ("Titel", "Ein langer Satz mit vielen Wörtern", 60,
     "Titel\n\nEin langer Satz mit vielen…\n\nhttps://presse.example/1"),  # 60 characters
    ("Titel", "Zu lang", 35, "Titel — https://presse.example/1"),  # no room for a summary: title and link
    ("Titel", None, 500, "Titel — https://presse.example/1"),
    (None, "Nur Text", 500, "Nur Text — https://presse.example/1"),  # the summary is the title already
])
def test_the_summary_fits_between_title_and_link_or_is_left_out(title, summary, limit, expected):
    text = item_text(item(title, summary), limit, with_summary=True).text
    assert text == expected and len(text) <= limit
    assert "\n" not in item_text(item(title, summary), limit, with_summary=False).text
