"""Editor and admin pages of mirroring: preview per platform, send state with reasons, account state."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bridge.publishing import posts
from bridge.app import create_app
from bridge.appkeys import SESSIONS
from bridge.store.models import Role
from bridge.store.platforms import AccountStatus, PlatformAccount, PlatformSend, SendState
from support.mirroring import PLATFORMS
from fakes.platforms import MapResolver
from fakes.platform_servers import FakeMastodon
from testkit import add_user
from support.web import Visitor, admin_ready, client_for, compose_form, signed_in


@pytest.fixture
async def site(aiohttp_client, make_config, booted, test_password_hash):
    config = make_config(platforms=PLATFORMS)
    client = await client_for(aiohttp_client, config)
    sessions = client.app[SESSIONS]
    async with sessions.begin() as s:
        user = await add_user(s, "erika", Role.EDITOR, ["stadt"], test_password_hash)
    visitor = await signed_in(Visitor(client), sessions, user.id)
    yield config, sessions, visitor, user.id
    await visitor.close()


async def test_the_compose_preview_shows_each_platforms_text_and_counter(site):
    _, _, visitor, _ = site
    await visitor.get("/editor/compose")
    text = "Wort " * 80 + "#Stadt"
    page = await visitor.post("/editor/mirrors/preview", {"actor": "stadt", "text": text, "mirror": "bsky"})
    assert page.status == 200
    assert page.has("of 300 graphemes") and page.has("shortened, with a link to the full post")
    assert page.has("Bluesky cannot edit posts")
    many = await visitor.post("/editor/mirrors/preview", {"actor": "stadt", "text": "A < B", "mirror": "tg"})
    assert "A &amp;lt; B" in many.text  # the exact HTML Telegram gets, shown escaped


async def test_the_compose_forms_preview_button_reads_the_form_the_csrf_check_read(site):
    """The compose form is multipart: its body is read once, by the CSRF check; the preview must use that."""
    _, _, visitor, _ = site
    await visitor.get("/editor/compose")
    form = compose_form("Der Wochenmarkt zieht um #Stadt", mirror="bsky")
    form.add_field("mirror", "masto")
    form.add_field("image1", b"", filename="", content_type="application/octet-stream")
    page = await visitor.post("/editor/mirrors/preview", form)
    assert page.status == 200, page.text[:300]
    assert page.has("bsky (bluesky)") and page.has("masto (mastodon)") and not page.has("tg (telegram)")
    assert page.has("Der Wochenmarkt zieht um #Stadt")


async def test_the_post_page_lists_platform_states_and_lets_the_editor_decide_an_unknown_outcome(site):
    config, sessions, visitor, user_id = site
    async with sessions.begin() as s:
        user = await s.get(posts.User, user_id)
        post = (await posts.create_post(s, config, user, posts.Draft("stadt", "Hallo", mirrors=("tg", "masto")))).post
        rows = {r.platform_id: r for r in (await s.scalars(select(PlatformSend))).all()}
        rows["tg"].state, rows["tg"].reason = SendState.UNKNOWN, "timeout"
        rows["masto"].state, rows["masto"].reason, rows["masto"].detail = SendState.FAILED, "rejected", "Validation failed"
    page = await visitor.get(f"/editor/posts/{post.id}")
    assert f"/editor/posts/{post.id}/mirrors" in page.text
    page = await visitor.get(f"/editor/posts/{post.id}/mirrors")
    assert page.has("the platform did not answer in time") and page.has("Validation failed")
    assert page.has("Telegram photos have no alt text") is False and page.has("Check the platform")
    done = await visitor.post(f"/editor/posts/{post.id}/mirrors/tg/decide", {"decision": "mark_sent"})
    assert done.status == 303
    async with sessions() as s:
        row = await s.scalar(select(PlatformSend).where(PlatformSend.platform_id == "tg"))
    assert row.state == SendState.SENT


async def test_the_admin_sees_accounts_that_need_reconnecting(site, aiohttp_client):
    config, sessions, visitor, _ = site
    async with sessions.begin() as s:
        s.add(PlatformAccount(platform_id="masto", status=AccountStatus.RECONNECT_NEEDED, reason="invalid_credentials",
                              detail="The access token is invalid", limits={}))
    admin = await signed_in(Visitor(visitor.client), sessions, await admin_ready(sessions))
    page = await admin.get("/admin/platforms")
    assert page.status == 200 and page.has("Reconnect needed (The access token is invalid)")
    assert (await visitor.get("/admin/platforms")).status == 403
    await admin.close()


async def test_check_now_shows_a_revoked_token_and_its_repair(aiohttp_client, aiohttp_server, make_config, booted):
    fake = FakeMastodon()
    resolver = MapResolver({"mastodon.example": ("127.0.0.1", (await aiohttp_server(fake.app())).port)})
    masto = [p for p in PLATFORMS if p["id"] == "masto"]
    client = await aiohttp_client(create_app(make_config(platforms=masto), run_worker=False, resolver=resolver,
                                             public_overrides=("127.0.0.0/8",)))
    sessions = client.app[SESSIONS]
    admin = await signed_in(Visitor(client), sessions, await admin_ready(sessions))
    fake.token = "revoked-by-the-platform"
    assert (await admin.post("/admin/platforms/masto/check")).status == 303
    page = await admin.get("/admin/platforms")
    assert page.has("Reconnect needed")
    fake.token = "mastodon-token"
    await admin.post("/admin/platforms/masto/check")
    async with sessions() as s:
        account = await s.get(PlatformAccount, "masto")
    assert account.status == AccountStatus.OK and account.checked_at is not None
    assert not (await admin.get("/admin/platforms")).has("Reconnect needed")
