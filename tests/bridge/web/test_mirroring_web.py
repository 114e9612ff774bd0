"""Editor and admin pages of mirroring: preview per platform, send state with reasons, account state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bridge.publishing import posts
from bridge.app import create_app
from bridge.appkeys import SESSIONS
from bridge.platforms.sends import SEND_JOB
from bridge.store.db import utcnow
from bridge.store.models import Job, JobState, Role
from bridge.store.platforms import AccountStatus, PlatformAccount, PlatformSend, SendState
from support.mirroring import PLATFORMS
from fakes.platforms import MapResolver
from fakes.platform_servers import FakeMastodon
from testkit import add_user
from bridge.publishing.uploads import upload_image
from support.web import Visitor, admin_ready, client_for, compose_form, image_bytes, signed_in


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


async def test_the_preview_counts_the_forms_uploaded_image_and_says_what_the_platform_loses(site):
    config, sessions, visitor, user_id = site
    async with sessions.begin() as s:
        user = await s.get(posts.User, user_id)
        uploaded = await upload_image(s, config, user, "stadt", image_bytes(), "Das Rathaus im Schnee")
    await visitor.get("/editor/compose")
    with_image = compose_form("Winterdienst ab heute", mirror="tg", media0=str(uploaded.media.id), alt0="Rathaus")
    page = await visitor.post("/editor/mirrors/preview", with_image)
    assert page.status == 200 and page.has("Telegram photos have no alt text")
    assert page.has("of 1024 characters") and not page.has("Images are shown on the post")
    without = await visitor.post("/editor/mirrors/preview", compose_form("Winterdienst ab heute", mirror="tg"))
    assert not without.has("Telegram photos have no alt text") and without.has("of 4096 characters")
    # a medium of another account is not looked up for this one
    other = await visitor.post("/editor/mirrors/preview", compose_form("x", actor="feuerwehr", mirror="tg",
                                                                       media0=str(uploaded.media.id)))
    assert other.status == 200 and not other.has("Telegram photos have no alt text")


async def sent_page(site, text: str, extra: dict):
    """The post's platform page after its Telegram send went out with these remote facts."""
    config, sessions, visitor, user_id = site
    async with sessions.begin() as s:
        user = await s.get(posts.User, user_id)
        post = (await posts.create_post(s, config, user, posts.Draft("stadt", text, mirrors=("tg",)))).post
        row = await s.scalar(select(PlatformSend).where(PlatformSend.post_id == post.id))
        row.state, row.remote_id, row.remote_extra = SendState.SENT, "7", extra
    page = await visitor.get(f"/editor/posts/{post.id}/mirrors")
    assert page.status == 200
    return page


async def test_a_poll_the_platform_refused_is_named_on_the_posts_platform_page(site):
    page = await sent_page(site, "Umfrage", {"poll_failed": "rejected"})
    assert page.has("The platform refused the poll (the platform refused the post)")


async def test_captions_the_platform_did_not_take_are_named_on_the_posts_platform_page(site):
    page = await sent_page(site, "Video", {"video": True, "captions": None, "captions_failed": "rate_limited"})
    assert page.has("The platform did not take the captions (")
    assert not page.has("The platform refused the poll")


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


async def test_each_send_has_one_status_in_the_same_german_words_on_every_page(site):
    """A send whose job gave up reads "not sent", never "queued"; one that waits says when it tries again;
    the post's platform page, the dashboard and the admin's platform page use the same words, with the time
    of the last attempt; an account whose last check got no answer is not called "OK"."""
    config, sessions, visitor, user_id = site
    async with sessions.begin() as s:
        user = await s.get(posts.User, user_id)
        user.language = "de"
        post = (await posts.create_post(s, config, user, posts.Draft("stadt", "Hallo", mirrors=("tg", "masto")))).post
        rows = {r.platform_id: r for r in (await s.scalars(select(PlatformSend))).all()}
        rows["masto"].reason = rows["tg"].reason = "connection_failed"
        rows["masto"].attempts = rows["tg"].attempts = 1
        sends = {j.payload["platform_id"]: j for j in (await s.scalars(select(Job).where(Job.kind == SEND_JOB))).all()}
        sends["masto"].state = JobState.FAILED  # the job gave up; the row says "queued"
        sends["tg"].run_at = utcnow() + timedelta(minutes=5)
        s.add(PlatformAccount(platform_id="masto", status=AccountStatus.OK, reason="connection_failed", limits={},
                              checked_at=utcnow() - timedelta(days=1)))
    admin_id = await admin_ready(sessions)
    async with sessions.begin() as s:
        (await s.get(posts.User, admin_id)).language = "de"
    stopped, waiting = "nicht gesendet: Versand abgebrochen", "noch nicht gesendet: neuer Versuch folgt"
    page = await visitor.get(f"/editor/posts/{post.id}/mirrors")
    assert page.has(stopped) and page.has(waiting) and page.has("nächster Versuch")
    assert page.has("Letzter Versuch") and not page.has("in der Warteschlange")
    dashboard = await visitor.get("/editor")
    assert dashboard.has(f"masto: {stopped}") and dashboard.has(f"tg: {waiting}")
    admin = await signed_in(Visitor(visitor.client), sessions, admin_id)
    accounts = await admin.get("/admin/platforms")
    assert accounts.has("unklar: die letzte Prüfung kam nicht durch") and accounts.has("Letzte Prüfung")
    assert not accounts.has("In Ordnung") and not accounts.has("es wurde nichts gesendet")
    assert accounts.has(f"Beitrag {post.id}") and accounts.has(stopped) and accounts.has(waiting)
    await admin.close()
