"""/admin/platforms: platform accounts connected (credentials typed once, or the platform's OAuth sign-in)
and disconnected in the browser, without a restart; secrets sealed with the data dir's key, never shown,
logged or audited; every change an audit entry, and a connection in the transfer log."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from html import escape, unescape
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import select

from bridge.app import create_app
from bridge.appkeys import CONFIG, SESSIONS
from bridge.runtime.credentials import KEY_FILE, load_or_create_key, unseal
from bridge.store.platforms import PlatformAccount, PlatformConnection, PlatformOAuthState
from consent.audit import AuditEntry
from fakes.linkedin import FakeLinkedIn
from fakes.youtube import FakeYouTube
from fakes.meta import FakeFacebook, FakeThreads
from fakes.platform_servers import FakeMastodon
from fakes.x import FakeX
from fakes.platforms import MapResolver
from support.web import Visitor, admin_ready, signed_in

TOKEN = "mastodon-token"  # what the fake accepts
TRANSFER = {"recipient": "Mastodon gGmbH", "country": "DE", "mechanism": "none (EU)"}
OPENED: list[Visitor] = []


@pytest.fixture
async def masto(aiohttp_server):
    fake = FakeMastodon(TOKEN)
    server = await aiohttp_server(fake.app())
    fake.port = server.port
    return fake


def app_for(config, masto):
    resolver = MapResolver({"mastodon.example": ("127.0.0.1", masto.port)})
    return create_app(config, run_worker=False, resolver=resolver, public_overrides=("127.0.0.0/8",))


@pytest.fixture
async def site(aiohttp_client, config, booted, masto):
    return await aiohttp_client(app_for(config, masto))


@pytest.fixture(autouse=True)
async def close_visitors():
    yield
    while OPENED:
        await OPENED.pop().close()


async def admin_of(client) -> Visitor:
    OPENED.append(Visitor(client))
    return await signed_in(OPENED[-1], client.app[SESSIONS], await admin_ready(client.app[SESSIONS]))


def platform_link(page) -> str:
    """Where the page sends the admin on (its link, and the same address in its meta refresh)."""
    link = unescape(re.search(r'<a href="([^"]+)" id="to-platform"', page.text).group(1))
    assert f'content="0; url={escape(link)}"' in page.text
    return link


def connect_form(**values) -> dict:
    return {"kind": "mastodon", "id": "masto", "api_base": "http://mastodon.example", **TRANSFER,
            "access_token": TOKEN, "via": "form", **values}


async def audit_of(client, action: str) -> list[AuditEntry]:
    async with client.app[SESSIONS]() as session:
        return list((await session.scalars(select(AuditEntry).where(AuditEntry.action == action))).all())


async def test_typed_credentials_are_sealed_never_shown_and_work_in_every_process_at_once(
        site, masto, aiohttp_client, make_config, caplog):
    caplog.set_level(logging.DEBUG)
    other = await aiohttp_client(app_for(make_config(), masto))  # another process on the same database
    boss = await admin_of(site)
    page = await boss.get("/admin/platforms/connect?kind=mastodon")
    assert page.status == 200 and 'value="Mastodon gGmbH"' in page.text and 'type="password"' in page.text
    page = await boss.post("/admin/platforms/connect", connect_form())
    assert page.status == 303 and page.location == "/admin/platforms?done=connected"
    listing = await boss.get(page.location)
    assert listing.has("masto (mastodon)") and TOKEN not in listing.text

    other_boss = await admin_of(other)
    assert (await other_boss.post("/admin/platforms/masto/check")).status == 303
    async with site.app[SESSIONS]() as session:
        account = await session.get(PlatformAccount, "masto")
        row = await session.get(PlatformConnection, "masto")
    assert account.status == "ok" and account.checked_at is not None
    assert TOKEN.encode() not in row.sealed_credentials
    key = site.app[CONFIG].instance.data_dir / KEY_FILE
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "masto" in {p.id for p in other.app[CONFIG].platforms}

    connected = await audit_of(site, "platform.connected")
    assert [e.details["fields"] for e in connected] == [["access_token"]]
    transfers = await audit_of(site, "platform.transfer")
    assert [(t.subject_ref, t.details["recipient"], t.details["action"]) for t in transfers] == [
        ("platform:masto", "Mastodon gGmbH", "connect")]
    assert TOKEN not in caplog.text and all(TOKEN not in str(e.details) for e in connected + transfers)
    assert (await boss.get("/dpo/transfers")).has("Mastodon gGmbH")

    page = await boss.post("/admin/platforms/masto/disconnect")
    assert page.status == 303 and page.location == "/admin/platforms?done=disconnected"
    assert not (await other_boss.get("/admin/platforms")).has("masto (mastodon)")
    assert len(await audit_of(site, "platform.disconnected")) == 1
    async with site.app[SESSIONS]() as session:
        assert await session.get(PlatformConnection, "masto") is None


async def test_a_form_with_problems_keeps_what_was_typed_but_never_the_secret(site):
    boss = await admin_of(site)
    await boss.get("/admin/platforms/connect?kind=mastodon")
    page = await boss.post("/admin/platforms/connect", connect_form(id="Mein Masto", api_base="mastodon.example",
                                                                    recipient="", access_token="geheim-123"))
    assert page.status == 422
    for field in ("id", "api_base", "recipient"):
        assert f'id="{field}-problem"' in page.text
    assert 'value="mein masto"' in page.text and 'value="mastodon.example"' in page.text
    assert "geheim-123" not in page.text
    page = await boss.post("/admin/platforms/connect", connect_form(access_token=""))
    assert page.status == 422 and 'id="access_token-problem"' in page.text
    await boss.post("/admin/platforms/connect", connect_form())
    page = await boss.post("/admin/platforms/connect", connect_form())
    assert page.status == 422 and page.has("a platform account with this id exists already")


async def test_the_oauth_sign_in_goes_to_the_platform_and_back_with_a_token(site, masto):
    boss = await admin_of(site)
    await boss.get("/admin/platforms/connect?kind=mastodon")
    page = await boss.post("/admin/platforms/connect", connect_form(access_token="", via="oauth"))
    assert page.status == 200
    consent = urlsplit(platform_link(page))
    assert (consent.scheme, consent.netloc, consent.path) == ("http", "mastodon.example", "/oauth/authorize")
    query = parse_qs(consent.query)
    assert query["redirect_uri"] == ["http://stadt.test/admin/platforms/oauth/callback"]
    assert query["code_challenge_method"] == ["S256"] and "write:statuses" in query["scope"][0]
    async with aiohttp.ClientSession() as browser:  # the browser at the platform: it agrees and is sent back
        async with browser.get(f"http://127.0.0.1:{masto.port}/oauth/authorize?{consent.query}",
                               allow_redirects=False) as answer:
            back = urlsplit(answer.headers["Location"])
    assert back.path == "/admin/platforms/oauth/callback"
    landing = await site.get(f"{back.path}?{back.query}")  # no session cookie: the state is the proof
    assert landing.status == 200 and "/admin/platforms?done=connected" in await landing.text()
    assert masto.consent.exchanged[0]["code_verifier"]
    async with site.app[SESSIONS]() as session:
        assert await session.get(PlatformConnection, "masto") is not None
        assert await session.scalar(select(PlatformOAuthState)) is None  # used up
    assert (await boss.post("/admin/platforms/masto/check")).status == 303
    async with site.app[SESSIONS]() as session:
        assert (await session.get(PlatformAccount, "masto")).status == "ok"
    [entry] = await audit_of(site, "platform.connected")
    assert entry.details["via"] == "oauth" and entry.actor_ref.startswith("user:")
    again = await site.get(f"{back.path}?{back.query}")
    assert again.status == 400 and "took too long or was used already" in await again.text()


async def test_a_forged_or_declined_callback_connects_nothing(site):
    page = await site.get("/admin/platforms/oauth/callback?state=erfunden&code=code-1")
    assert page.status == 400
    boss = await admin_of(site)
    await boss.get("/admin/platforms/connect?kind=mastodon")
    started = await boss.post("/admin/platforms/connect", connect_form(access_token="", via="oauth"))
    state = parse_qs(urlsplit(platform_link(started)).query)["state"][0]
    declined = await site.get(f"/admin/platforms/oauth/callback?state={state}&error=access_denied")
    assert declined.status == 400 and "did not confirm" in await declined.text()
    async with site.app[SESSIONS]() as session:
        assert await session.scalar(select(PlatformConnection)) is None


async def test_a_platform_from_the_file_cannot_be_disconnected_in_the_browser(aiohttp_client, make_config, booted,
                                                                              masto):
    filed = {"id": "masto", "kind": "mastodon", "api_base": "http://mastodon.example", "access_token": TOKEN,
             "recipient": "Mastodon gGmbH", "country": "DE", "transfer_mechanism": "none (EU)"}
    client = await aiohttp_client(app_for(make_config(platforms=[filed]), masto))
    boss = await admin_of(client)
    page = await boss.get("/admin/platforms")
    assert page.has("Set in the configuration file.")
    assert (await boss.post("/admin/platforms/masto/disconnect")).status == 409


SIGN_INS = {  # kind: (fake, hosts it answers for, the form as an admin fills it)
    "x": (lambda: FakeX(), ("api.x.com",), {
        "api_base": "http://api.x.com", "authorize_url": "http://api.x.com/i/oauth2/authorize", "client_id": "app"}),
    "linkedin": (lambda: FakeLinkedIn(), ("api.linkedin.com", "www.linkedin.com"), {
        "api_base": "http://api.linkedin.com", "oauth_base": "http://www.linkedin.com", "organization_id": "2414183",
        "authorize_url": "http://www.linkedin.com/oauth/v2/authorization", "client_id": "li-app",
        "client_secret": "li-secret"}),
    "facebook": (lambda: FakeFacebook(), ("graph.facebook.com",), {
        "api_base": "http://graph.facebook.com/v25.0", "page_id": "112233", "client_id": "fb-app",
        "client_secret": "fb-secret", "authorize_url": "http://graph.facebook.com/v25.0/dialog/oauth"}),
    # Instagram through Facebook Login for Business: the Page linked to the professional account answers both.
    "instagram": (lambda: FakeFacebook(ig_user=IG_USER), ("graph.facebook.com",), {
        "api_base": "http://graph.facebook.com/v25.0", "client_id": "fb-app", "client_secret": "fb-secret",
        "authorize_url": "http://graph.facebook.com/v25.0/dialog/oauth"}),
    "threads": (lambda: FakeThreads(user=THREADS_USER), ("graph.threads.net", "threads.com"), {
        "api_base": "http://graph.threads.net/v1.0", "client_id": "th-app", "client_secret": "th-secret",
        "authorize_url": "http://threads.com/oauth/authorize"}),
    # Google: the consent page at accounts.google.com, the token at oauth2.googleapis.com, the API elsewhere.
    "youtube": (lambda: FakeYouTube(client=("yt-client", "yt-secret")),
                ("www.googleapis.com", "oauth2.googleapis.com", "accounts.google.com"), {
        "api_base": "http://www.googleapis.com", "oauth_base": "http://oauth2.googleapis.com",
        "authorize_url": "http://accounts.google.com/o/oauth2/v2/auth", "client_id": "yt-client",
        "client_secret": "yt-secret", "privacy_status": "unlisted"}),
}
IG_USER, THREADS_USER = "17841400000000001", "2590000000001"


@pytest.mark.parametrize("kind", sorted(SIGN_INS))
async def test_each_sign_in_platform_connects_through_its_sign_in(kind, aiohttp_client, aiohttp_server, config,
                                                                   booted):
    site, fake, port = await site_with(SIGN_INS[kind], aiohttp_client, aiohttp_server, config)
    values = SIGN_INS[kind][2]
    boss = await admin_of(site)
    consent = await start_sign_in(boss, kind)
    assert consent.netloc == urlsplit(values["authorize_url"]).netloc and parse_qs(consent.query)["client_id"]
    back = await at_platform(port, consent)
    landing = await site.get(f"{back.path}?{back.query}")
    assert landing.status == 200, await landing.text()
    assert fake.consent.exchanged[0].get("client_secret") == values.get("client_secret")
    assert (await boss.post(f"/admin/platforms/{kind}/check")).status == 303
    async with site.app[SESSIONS]() as session:
        account = await session.get(PlatformAccount, kind)
    assert account.status == "ok", account.detail
    secrets = [v for k, v in values.items() if "secret" in k]
    listing = await boss.get("/admin/platforms")
    assert all(s not in listing.text for s in secrets)

    if kind in ("instagram", "threads"):  # what the sign-in found, sealed as the connector needs it
        stored = await credentials_of(site, kind)
        assert stored == ({"access_token": "page-token", "ig_user_id": IG_USER} if kind == "instagram"
                          else {"access_token": "long-threads-1", "threads_user_id": THREADS_USER})
        assert fake.long_lived_asked[0]["client_secret"] == values["client_secret"]
        [entry] = await audit_of(site, "platform.connected")
        assert entry.details["via"] == "oauth" and "page-token" not in str(entry.details)
        [transfer] = await audit_of(site, "platform.transfer")
        assert transfer.details["recipient"] == TRANSFER["recipient"]


async def site_with(sign_in, aiohttp_client, aiohttp_server, config):
    make, hosts, _ = sign_in
    fake = make()
    port = (await aiohttp_server(fake.app())).port
    resolver = MapResolver({host: ("127.0.0.1", port) for host in hosts})
    site = await aiohttp_client(create_app(config, run_worker=False, resolver=resolver,
                                           public_overrides=("127.0.0.0/8",)))
    return site, fake, port


async def start_sign_in(boss: Visitor, kind: str):
    await boss.get(f"/admin/platforms/connect?kind={kind}")
    page = await boss.post("/admin/platforms/connect",
                           {"kind": kind, "id": kind, **TRANSFER, **SIGN_INS[kind][2], "via": "oauth"})
    assert page.status == 200, page.text
    return urlsplit(platform_link(page))


async def at_platform(port: int, consent):
    """The admin's browser at the platform's consent page, sent back to us."""
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"http://127.0.0.1:{port}{consent.path}?{consent.query}",
                               allow_redirects=False) as answer:
            return urlsplit(answer.headers["Location"])


async def credentials_of(site, platform_id: str) -> dict:
    async with site.app[SESSIONS]() as session:
        row = await session.get(PlatformConnection, platform_id)
    return unseal(load_or_create_key(site.app[CONFIG].instance.data_dir), row.sealed_credentials)


async def nothing_connected(site) -> bool:
    async with site.app[SESSIONS]() as session:
        return await session.scalar(select(PlatformConnection)) is None and not await audit_of(
            site, "platform.connected")


@pytest.mark.parametrize("kind", ["instagram", "threads"])
async def test_a_declined_consent_says_so_in_german_and_stores_nothing(kind, aiohttp_client, aiohttp_server,
                                                                       make_config, booted):
    config = make_config(instance={"language": "de"})
    site, fake, port = await site_with(SIGN_INS[kind], aiohttp_client, aiohttp_server, config)
    fake.consent.deny = True
    back = await at_platform(port, await start_sign_in(await admin_of(site), kind))
    assert parse_qs(back.query)["error"] == ["access_denied"]
    landing = await site.get(f"{back.path}?{back.query}")
    assert landing.status == 400 and "die Plattform hat die Anmeldung nicht bestätigt" in await landing.text()
    assert fake.consent.exchanged == [] and await nothing_connected(site)


@pytest.mark.parametrize("kind", ["instagram", "threads"])
async def test_a_forged_state_or_a_refused_code_connects_nothing(kind, aiohttp_client, aiohttp_server, config,
                                                                 booted):
    site, fake, port = await site_with(SIGN_INS[kind], aiohttp_client, aiohttp_server, config)
    consent = await start_sign_in(await admin_of(site), kind)
    back = await at_platform(port, consent)
    forged = await site.get(f"{back.path}?state=erfunden&code={parse_qs(back.query)['code'][0]}")
    assert forged.status == 400 and "took too long or was used already" in await forged.text()
    assert fake.consent.exchanged == []  # a state we never issued sends nothing to the platform
    # The platform's token endpoint refuses the code (one it never issued): nothing is stored, nothing asked on.
    state = parse_qs(back.query)["state"][0]
    refused = await site.get(f"{back.path}?state={state}&code=erfunden")
    assert refused.status == 400 and "did not confirm" in await refused.text()
    assert [f["code"] for f in fake.consent.exchanged] == ["erfunden"]
    assert fake.long_lived_asked == [] and await nothing_connected(site)


async def test_instagram_signed_in_posts_through_the_facebook_graph_unless_another_address_was_typed(site):
    """Facebook Login's Page token works at graph.facebook.com, not at Instagram Login's default address."""
    boss = await admin_of(site)
    page = await boss.get("/admin/platforms/connect?kind=instagram")
    assert "https://graph.facebook.com/v25.0" in page.text  # the hint on the form
    form = {"kind": "instagram", "id": "ig", **TRANSFER, "client_id": "fb-app", "client_secret": "fb-secret",
            "via": "oauth"}
    for typed, kept in (("https://graph.instagram.com/v25.0", "https://graph.facebook.com/v25.0"),
                        ("http://graph.example/v25.0", "http://graph.example/v25.0")):
        started = await boss.post("/admin/platforms/connect", {**form, "api_base": typed})
        consent = urlsplit(platform_link(started))
        assert consent.netloc == "www.facebook.com"
        assert "instagram_content_publish" in parse_qs(consent.query)["scope"][0]
        async with site.app[SESSIONS]() as session:
            row = await session.get(PlatformOAuthState, hashlib.sha256(
                parse_qs(consent.query)["state"][0].encode()).hexdigest())
        pending = unseal(load_or_create_key(site.app[CONFIG].instance.data_dir), row.sealed)
        assert pending["form"]["api_base"] == kept


async def test_youtube_asks_google_for_a_refresh_token_and_keeps_it_sealed(aiohttp_client, aiohttp_server,
                                                                           make_config, booted):
    config = make_config(instance={"language": "de"})
    site, fake, port = await site_with(SIGN_INS["youtube"], aiohttp_client, aiohttp_server, config)
    boss = await admin_of(site)
    form = await boss.get("/admin/platforms/connect?kind=youtube")
    assert "Bei YouTube anmelden" in form.text and "Sichtbarkeit hochgeladener Videos" in form.text
    consent = await start_sign_in(boss, "youtube")
    query = parse_qs(consent.query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["scope"] == ["https://www.googleapis.com/auth/youtube.upload "
                              "https://www.googleapis.com/auth/youtube.force-ssl"]
    back = await at_platform(port, consent)
    assert (await site.get(f"{back.path}?{back.query}")).status == 200
    stored = await credentials_of(site, "youtube")
    assert stored == {"access_token": "yt-token-1", "refresh_token": "yt-refresh-1", "client_id": "yt-client",
                      "client_secret": "yt-secret", "privacy_status": "unlisted",
                      "oauth_base": "http://oauth2.googleapis.com"}
    assert fake.consent.exchanged[0]["grant_type"] == "authorization_code"


@pytest.mark.parametrize("kind, basis", [
    ("youtube", "keine (EU); Weiterübermittlung durch Google nach dem EU-US-Datenschutzrahmen"),
    ("telegram", "zu prüfen (kein Angemessenheitsbeschluss)"),
    ("mastodon", "keine (EU)"),
])
async def test_the_transfer_basis_is_offered_in_the_admins_language(kind, basis, aiohttp_client, make_config, booted,
                                                                    masto):
    site = await aiohttp_client(app_for(make_config(instance={"language": "de"}), masto))
    page = await (await admin_of(site)).get(f"/admin/platforms/connect?kind={kind}")
    assert page.status == 200 and f'value="{escape(basis)}"' in page.text
    assert "onward transfers" not in page.text and "to be assessed" not in page.text


async def test_xing_is_connected_in_the_browser_without_credentials(site):
    boss = await admin_of(site)
    listing = await boss.get("/admin/platforms")
    assert 'href="/admin/platforms/connect?kind=xing"' in listing.text
    page = await boss.get("/admin/platforms/connect?kind=xing")
    assert page.status == 200 and 'value="New Work SE"' in page.text and 'type="password"' not in page.text
    done = await boss.post("/admin/platforms/connect", {"kind": "xing", "id": "xing", "api_base": "https://www.xing.com",
                                                        "recipient": "New Work SE", "country": "DE",
                                                        "mechanism": "none (EU)", "via": "form"})
    assert done.status == 303 and done.location == "/admin/platforms?done=connected"
    assert (await boss.get(done.location)).has("xing (xing)")
    assert {p.id: p.kind for p in site.app[CONFIG].platforms}["xing"] == "xing"
    [connected] = await audit_of(site, "platform.connected")
    assert connected.details["fields"] == [] and connected.details["recipient"] == "New Work SE"
    assert (await boss.post("/admin/platforms/xing/check")).status == 303
    async with site.app[SESSIONS]() as session:
        account = await session.get(PlatformAccount, "xing")
    assert account.status == "ok", account.status
