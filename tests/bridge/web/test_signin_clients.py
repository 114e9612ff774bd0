"""Sign-in throttling per (account, client) and per client, behind a reverse proxy and without one; an admin
lifts a block; the client's address and scheme come from forwarding headers only through trusted proxies.

Over real HTTP: the test client's peer is 127.0.0.1, which plays the reverse proxy when it is trusted."""

from __future__ import annotations

import asyncio

import aiohttp
from sqlalchemy import select

from bridge.appkeys import SESSIONS
from bridge.store.models import SigninThrottle
from consent.audit import Action
from consent.models import AuditEntry
from consent.models_privacy import SecurityEvent
from support.web import Visitor, admin_ready, client_for, make_user, sign_in, signed_in, visitors  # noqa: F401

PROXY = {"trusted_proxies": ["127.0.0.1", "::1"]}


async def from_address(visitors, address: str | None, client=None, proto: str | None = None) -> Visitor:
    """A browser whose requests carry the forwarding headers a proxy in front of us would add."""
    visitor = visitors(client)
    headers = {"X-Forwarded-For": address} if address else {}
    if proto:
        headers["X-Forwarded-Proto"] = proto
    await visitor.session.close()
    visitor.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)
    return visitor


async def proxied(aiohttp_client, make_config, **instance):
    client = await client_for(aiohttp_client, make_config(instance={**PROXY, **instance}))
    return client, client.app[SESSIONS]


async def fail(browser: Visitor, name: str, times: int) -> None:
    for _ in range(times):
        assert (await sign_in(browser, name, "wrong password!")).status == 401


async def test_five_failures_from_elsewhere_do_not_lock_the_owner_out(aiohttp_client, make_config, visitors,
                                                                      booted):
    client, sessions = await proxied(aiohttp_client, make_config)
    _, password = await make_user(sessions, "erika")
    attacker = await from_address(visitors, "203.0.113.66", client)
    await fail(attacker, "erika", 5)
    page = await sign_in(attacker, "erika", password)
    assert page.status == 429 and page.has("Too many failed sign-ins.")  # the attacker's client is blocked
    owner = await from_address(visitors, "198.51.100.7", client)
    page = await sign_in(owner, "erika", password)
    assert (page.status, page.location) == (303, "/editor")


async def test_one_office_behind_the_proxy_is_not_locked_out_by_another_client(aiohttp_client, make_config,
                                                                                visitors, booted):
    client, sessions = await proxied(aiohttp_client, make_config)
    _, password = await make_user(sessions, "erika")
    guesser = await from_address(visitors, "203.0.113.66", client)
    for i in range(20):  # many names, so only the whole-client limit is reached
        await sign_in(guesser, f"guess{i // 4}", "wrong password!")
    assert (await sign_in(guesser, "erika", password)).status == 429
    office = await from_address(visitors, "192.0.2.10", client)
    assert (await sign_in(office, "erika", password)).status == 303


async def test_without_trusted_proxies_a_forged_header_does_not_escape_the_throttle(visitors, sessions, booted):
    _, password = await make_user(sessions, "erika")
    for i in range(5):  # a new "address" each time: ignored, since 127.0.0.1 is no trusted proxy here
        forger = await from_address(visitors, f"203.0.113.{i}")
        assert (await sign_in(forger, "erika", "wrong password!")).status == 401
    forger = await from_address(visitors, "203.0.113.99")
    assert (await sign_in(forger, "erika", password)).status == 429


async def test_addresses_the_client_wrote_itself_left_of_the_proxy_are_ignored(aiohttp_client, make_config,
                                                                               visitors, booted):
    """X-Forwarded-For is read from the right: the proxy appends the real peer, the client's own text is left."""
    client, sessions = await proxied(aiohttp_client, make_config)
    _, password = await make_user(sessions, "erika")
    for i in range(5):
        forger = await from_address(visitors, f"10.9.9.{i}, 203.0.113.66", client)
        assert (await sign_in(forger, "erika", "wrong password!")).status == 401
    forger = await from_address(visitors, "10.9.9.99, 203.0.113.66", client)
    assert (await sign_in(forger, "erika", password)).status == 429


async def test_a_chain_of_trusted_proxies_is_skipped_to_the_client(aiohttp_client, make_config, visitors, booted):
    client, sessions = await proxied(aiohttp_client, make_config,
                                     trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    _, password = await make_user(sessions, "erika")
    await fail(await from_address(visitors, "203.0.113.66, 10.1.2.3", client), "erika", 5)
    page = await sign_in(await from_address(visitors, "203.0.113.66, 10.7.7.7", client), "erika", password)
    assert page.status == 429  # the same client through another inner proxy
    async with sessions() as session:
        addresses = set((await session.scalars(select(SecurityEvent.address))).all())
    assert addresses == {"203.0.113.66"}  # the security log names the client, never a proxy
    page = await sign_in(await from_address(visitors, "198.51.100.7, 10.1.2.3", client), "erika", password)
    assert page.status == 303


async def test_an_admin_lifts_the_block_and_it_is_audited(aiohttp_client, make_config, visitors, booted):
    client, sessions = await proxied(aiohttp_client, make_config)
    erika_id, password = await make_user(sessions, "erika")
    erika = await from_address(visitors, "203.0.113.66", client)
    await fail(erika, "erika", 5)
    assert (await sign_in(erika, "erika", password)).status == 429
    admin_id = await admin_ready(sessions)
    admin = await signed_in(visitors(client), sessions, admin_id)
    page = await admin.get(f"/admin/users/{erika_id}")
    assert page.has("this user cannot sign in from 1 network address")
    assert (await admin.post(f"/admin/users/{erika_id}/unblock", csrf=False)).status == 403  # CSRF-protected
    page = await admin.post(f"/admin/users/{erika_id}/unblock")
    assert (page.status, page.location) == (303, f"/admin/users/{erika_id}?done=unblocked")
    page = await admin.get(page.location)
    assert page.has("The user can sign in again from everywhere.")
    assert page.has("The user is not blocked from signing in.")
    assert (await sign_in(erika, "erika", password)).status == 303
    async with sessions() as session:
        [entry] = (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == str(Action.SIGNIN_UNBLOCKED)))).all()
    assert (entry.actor_ref, entry.subject_ref, entry.details) == (f"user:{admin_id}", f"user:{erika_id}",
                                                                   {"clients": 1})


async def test_the_whole_client_block_of_the_owner_is_lifted_too(aiohttp_client, make_config, visitors, booted):
    client, sessions = await proxied(aiohttp_client, make_config)
    erika_id, password = await make_user(sessions, "erika")
    office = await from_address(visitors, "192.0.2.10", client)
    await sign_in(office, "erika", "wrong password!")
    for i in range(19):  # a colleague in the same office mistypes other names
        await sign_in(office, f"colleague{i // 4}", "wrong password!")
    assert (await sign_in(office, "erika", password)).status == 429
    admin = await signed_in(visitors(client), sessions, await admin_ready(sessions))
    assert (await admin.post(f"/admin/users/{erika_id}/unblock")).status == 303
    assert (await sign_in(office, "erika", password)).status == 303


async def test_only_admins_lift_sign_in_blocks(visitors, sessions, booted):
    erika_id, _ = await make_user(sessions, "erika")
    editor_id, _ = await make_user(sessions, "max")
    editor = await signed_in(visitors(), sessions, editor_id)
    assert (await editor.post(f"/admin/users/{erika_id}/unblock")).status == 403
    admin = await signed_in(visitors(), sessions, await admin_ready(sessions))
    assert (await admin.post("/admin/users/999999/unblock")).status == 404


async def test_https_at_a_trusted_proxy_makes_the_cookie_secure(aiohttp_client, make_config, visitors, booted):
    client, sessions = await proxied(aiohttp_client, make_config)
    _, password = await make_user(sessions, "erika")
    page = await sign_in(await from_address(visitors, "198.51.100.7", client, proto="https"), "erika", password)
    [cookie] = page.set_cookies
    assert cookie.startswith("__Host-stadtbote=") and "Secure" in cookie


async def test_a_forwarded_scheme_from_an_untrusted_peer_is_ignored(visitors, sessions, booted):
    _, password = await make_user(sessions, "erika")
    page = await sign_in(await from_address(visitors, "198.51.100.7", proto="https"), "erika", password)
    [cookie] = page.set_cookies
    assert cookie.startswith("stadtbote=") and "Secure" not in cookie


async def test_http_at_a_trusted_proxy_cannot_unsecure_an_https_site(aiohttp_client, make_config, visitors,
                                                                     booted):
    client, sessions = await proxied(aiohttp_client, make_config, base_url="https://stadt.test")
    _, password = await make_user(sessions, "erika")
    page = await sign_in(await from_address(visitors, "198.51.100.7", client, proto="http"), "erika", password)
    [cookie] = page.set_cookies
    assert cookie.startswith("__Host-stadtbote=") and "Secure" in cookie


async def test_the_throttle_keeps_neither_the_name_nor_the_address(aiohttp_client, make_config, visitors, booted):
    client, sessions = await proxied(aiohttp_client, make_config)
    await fail(await from_address(visitors, "203.0.113.66", client), "erika.mustermann", 1)
    async with sessions() as session:
        keys = (await session.scalars(select(SigninThrottle.key))).all()
    assert len(keys) == 2 and not any("erika" in k or "203.0.113" in k for k in keys)


async def test_wrong_passwords_sent_at_once_are_all_answered_without_a_server_error(visitors, sessions, booted):
    """The first failures of a client arrive together: counting them must not trip over its own new row."""
    await make_user(sessions, "erika")
    browsers = [visitors() for _ in range(6)]
    for browser in browsers:
        await browser.get("/signin")
    pages = await asyncio.gather(*(b.post("/signin", {"name": "erika", "password": "wrong password!"})
                                   for b in browsers))
    assert sorted(p.status for p in pages) in ([401] * 5 + [429], [401] * 6), [p.status for p in pages]
    async with sessions() as session:
        rows = {r.key.split(":")[0]: r.failures for r in (await session.scalars(select(SigninThrottle))).all()}
    assert rows == {"pair": 5, "client": 5} or rows == {"pair": 6, "client": 6}
