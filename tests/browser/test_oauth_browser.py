"""An editor lets an app act for the fire brigade's account, in Chromium: sign-in first, the consent page in
German at desk and phone width, the redirect to the app (another origin) with code and state, then PKCE."""

from __future__ import annotations

import re
import socket
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from bridge.auth.users import create_user
from support.oauth import authorize_path, pkce_pair

pytestmark = pytest.mark.browser


@pytest.fixture
async def app_callback():
    """The app's own web page the user returns to: another port, so another origin than the server."""
    async def callback(request):
        return web.Response(text="App: angemeldet", content_type="text/html")
    application = web.Application()
    application.router.add_get("/callback", callback)
    runner = web.AppRunner(application)
    await runner.setup()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/callback"
    await runner.cleanup()


async def no_horizontal_scrollbar(page) -> bool:
    return await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


async def test_an_editor_allows_an_app_in_german_on_desk_and_phone(open_browser, server, sessions_for_server,
                                                                  app_callback, tmp_path):
    async with sessions_for_server.begin() as session:
        user, _ = await create_user(session, "erika", "editor", ["stadt", "feuerwehr"], password="erika-passwort-123")
        user.must_change_password = False
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server}/api/v1/apps", data={
                "client_name": "Feuerwehr-App", "redirect_uris": app_callback, "scopes": "read write push",
                "website": "https://feuerwehr-app.example"}) as response:
            app = await response.json()
    verifier, challenge = pkce_pair()

    page = await open_browser()
    await page.goto(authorize_path(app, redirect_uri=app_callback, scope="read write push", state="s-1",
                                   code_challenge=challenge, code_challenge_method="S256", lang="de"))
    await page.wait_for_url(re.compile(r"/signin\?next="))
    await page.get_by_label("User name").fill("erika")  # the sign-in page that remembers where to go back
    await page.get_by_label("Password").fill("erika-passwort-123")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/oauth/authorize\?"))
    await page.get_by_role("heading", name="Darf „Feuerwehr-App“ für ein Konto handeln?").wait_for()
    assert await page.get_by_text("Push-Benachrichtigungen (bietet dieser Server nicht an)").count() == 1
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=str(tmp_path / f"consent-{width}.png"), full_page=True)
        assert await no_horizontal_scrollbar(page), width

    await page.get_by_label("Konto, für das die App handelt").select_option("feuerwehr")
    await page.get_by_role("button", name="Erlauben").click()
    await page.wait_for_url(re.compile(re.escape(app_callback) + r"\?code="))
    assert await page.get_by_text("App: angemeldet").count() == 1
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert params["state"] == "s-1"

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server}/oauth/token", data={
                "grant_type": "authorization_code", "code": params["code"], "redirect_uri": app_callback,
                "client_id": app["client_id"], "client_secret": app["client_secret"],
                "code_verifier": verifier}) as response:
            assert response.status == 200
            token = (await response.json())["access_token"]
        async with http.get(f"{server}/api/v1/accounts/verify_credentials",
                            headers={"Authorization": f"Bearer {token}"}) as response:
            assert (await response.json())["acct"] == "feuerwehr"
