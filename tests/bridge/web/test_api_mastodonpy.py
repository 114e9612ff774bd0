"""A real client: Mastodon.py (PyPI, unpinned) registers, completes the code flow, and posts with an image,
against the application listening on loopback. Mastodon.py is synchronous; it runs in a thread while the
server runs on the test's event loop."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from yarl import URL

from bridge.auth.tokens import create_token
from bridge.privacy.rights import vault_for
from bridge.store.models import ApiToken
from consent.platform_replies import store_platform_reply
from support.api import png_bytes
from support.live import config, listening, port, sessions_beside  # noqa: F401  (fixtures)
from support.oauth import OOB, hidden_fields
from support.web import Visitor, make_user, signed_in

mastodon = pytest.importorskip("mastodon")
SCOPES = ["read", "write"]


@pytest.fixture
async def server(config, booted, port):
    async with listening(config, run_worker=False) as url:
        yield url


@pytest.fixture
async def server_sessions(config, server):
    async with sessions_beside(config) as makers:
        yield makers


class Loopback:
    """What `Visitor` needs of a test client, for a server that really listens."""

    def __init__(self, base: str):
        self.base = base

    def make_url(self, path: str) -> URL:
        return URL(self.base + path)


def start(base: str):
    """Mastodon.py's first steps: register, then the URL the user is sent to."""
    client_id, client_secret = mastodon.Mastodon.create_app("Stadtbote-Test", scopes=SCOPES, redirect_uris=OOB,
                                                            website="https://example.org", api_base_url=base)
    api = mastodon.Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    return api, api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, state="zustand", allow_http=True)


def finish(api, code: str, image: bytes):
    api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    me = api.account_verify_credentials()
    instance = api.instance()
    plain = api.status_post("Hallo aus Mastodon.py")
    media = api.media_post(image, mime_type="image/png", description="Ein rotes Rechteck")
    with_image = api.status_post("Mit Bild", media_ids=[media])
    return me, instance, plain, media, with_image


def revoke(api, base: str):
    """The app shows its name, signs out (revokes its token); the old token no longer works."""
    app, token = api.app_verify_credentials(), api.access_token
    api.revoke_access_token(allow_http=True)
    try:
        mastodon.Mastodon(access_token=token, api_base_url=base).account_verify_credentials()
    except mastodon.MastodonUnauthorizedError as refused:
        return app, refused
    return app, None


async def consent(server: str, server_sessions, actor: str):
    """Mastodon.py registers; Erika signs in on the server's page and allows it to act as `actor`."""
    api, url = await asyncio.to_thread(start, server)
    assert url.startswith(f"{server}/oauth/authorize?")
    user_id, _ = await make_user(server_sessions, "erika", actors=("stadt", "feuerwehr"))
    browser = Visitor(Loopback(server))
    try:
        await signed_in(browser, server_sessions, user_id)
        parts = urlsplit(url)
        page = await browser.get(f"{parts.path}?{parts.query}")
        assert page.status == 200 and page.has("Stadtbote-Test")
        page = await browser.post("/oauth/authorize", hidden_fields(page.text) | {"actor": actor, "decision": "approve"})
    finally:
        await browser.close()
    assert page.status == 200
    return api, page.text.split('id="code" value="', 1)[1].split('"', 1)[0]


async def test_mastodon_py_signs_in_with_the_code_flow_and_posts(server, server_sessions):
    api, code = await consent(server, server_sessions, "feuerwehr")

    me, instance, plain, media, with_image = await asyncio.to_thread(finish, api, code, png_bytes())
    assert me["acct"] == "feuerwehr"
    assert instance["title"] == "Stadt Teststadt"
    assert plain["content"] and plain["account"]["acct"] == "feuerwehr"
    assert media["description"] == "Ein rotes Rechteck"
    assert [m["id"] for m in with_image["media_attachments"]] == [media["id"]]
    async with server_sessions() as session:
        token = await session.scalar(select(ApiToken))
    assert token.app.name == "Stadtbote-Test" and token.scopes == "read write"

    app, refused = await asyncio.to_thread(revoke, api, server)
    assert app["name"] == "Stadtbote-Test" and app["website"] == "https://example.org"
    assert refused is not None and "revoked" in str(refused)


def editor_day(api, code: str):
    """What an editor does in the app after signing in: post, correct the post, look at its history,
    plan a post, and read the home timeline, the account's posts and the notifications."""
    api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    me = api.account_verify_credentials()
    posted = api.status_post("Straßenfest am Samstag")
    edited = api.status_update(posted["id"], "Straßenfest am Sonntag", spoiler_text="Terminänderung")
    history = api.status_history(posted["id"])
    when = datetime.now(timezone.utc) + timedelta(days=2)
    planned = api.status_post("Erinnerung: Straßenfest", scheduled_at=when)
    scheduled = api.scheduled_statuses()
    home = api.timeline_home()
    own = api.account_statuses(me["id"])
    notifications = api.notifications()
    return posted, edited, history, when, planned, scheduled, home, own, notifications


async def test_mastodon_py_edits_schedules_and_reads_timelines(server, server_sessions, config):
    api, code = await consent(server, server_sessions, "stadt")
    posted, edited, history, when, planned, scheduled, home, own, notifications = await asyncio.to_thread(
        editor_day, api, code)
    assert edited["id"] == posted["id"] and "Sonntag" in edited["content"] and edited["edited_at"] is not None
    assert edited["spoiler_text"] == "Terminänderung"
    assert ["Samstag" in h["content"] for h in history] == [True, False] and "Sonntag" in history[-1]["content"]
    assert history[-1]["spoiler_text"] == "Terminänderung"
    assert planned["params"]["text"] == "Erinnerung: Straßenfest"
    assert abs(planned["scheduled_at"] - when) < timedelta(seconds=1)  # Mastodon.py parses it to a datetime
    assert [s["id"] for s in scheduled] == [planned["id"]]
    assert [s["id"] for s in home] == [posted["id"]] and "Sonntag" in home[0]["content"]
    assert [s["id"] for s in own] == [posted["id"]] and own[0]["account"]["acct"] == "stadt"
    assert list(notifications) == []

    # A citizen answers on a platform; the editor's app shows it as a mention, with its moderation state.
    async with server_sessions.begin() as session:
        await store_platform_reply(session, vault_for(config), platform_kind="bluesky", platform_id="bsky_stadt",
                                   author_id="did:plc:carol", reply_id="at://carol/1", text="Kommt die Feuerwehr?",
                                   url="https://bsky.app/x", post_id=int(posted["id"]), actor_name="stadt",
                                   retention=timedelta(days=180), now=datetime.now(timezone.utc))
    [mention] = await asyncio.to_thread(api.notifications)
    assert mention["type"] == "mention" and "Kommt die Feuerwehr?" in mention["status"]["content"]
    assert mention["status"]["in_reply_to_id"] == posted["id"]
    assert mention["status"]["stadtbote"] == {"moderation": "pending", "consent": "not_asked"}


def change_profile(base: str, token: str, image: bytes):
    """An admin's app (a pasted token) changes the account's profile with Mastodon.py's own call."""
    api = mastodon.Mastodon(access_token=token, api_base_url=base)
    return api.account_update_credentials(
        display_name="Feuerwehr Teststadt", note="Einsätze und Warnungen.", avatar=image,
        avatar_mime_type="image/png", fields=[("Notruf", "112"), ("Website", "https://feuerwehr.example")])


async def test_mastodon_py_changes_the_profile_of_its_account(server, server_sessions):
    async with server_sessions.begin() as session:
        token = await create_token(session, "admin", "feuerwehr")
    me = await asyncio.to_thread(change_profile, server, token.secret, png_bytes(500, 500))
    assert me["display_name"] == "Feuerwehr Teststadt" and me["source"]["note"] == "Einsätze und Warnungen."
    assert [(f["name"], f["value"]) for f in me["source"]["fields"]] == [
        ("Notruf", "112"), ("Website", "https://feuerwehr.example")]
    assert "/avatars/feuerwehr.png?v=" in me["avatar"]
