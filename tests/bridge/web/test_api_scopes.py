"""Scopes (issue 20): a token is refused what its OAuth scopes do not cover, with Mastodon's 403 shape.

The router is walked, so a new /api/ route is checked without editing this test: every route must be in
`scopes.ROUTE_SCOPES`, a token whose scopes cover nothing is refused on every guarded route, and a token with
exactly the route's granular scope is let through."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bridge.appkeys import SESSIONS
from bridge.web.api.scopes import PUBLIC, ROUTE_SCOPES
from consent.models import AuditEntry
from support.api import bearer, make_token, scoped_token

OUTSIDE = {"error": "This action is outside the authorized scopes"}
NOTHING = "admin:read"  # a scope apps may register that grants nothing through the client API


def api_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every /api/ route, as the table names them (no HEAD, OPTIONS, trailing-slash twins
    or the catch-all 404)."""
    routes = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/") and route.method not in ("HEAD", "OPTIONS", "*") and not path.endswith("/"):
            routes.add((route.method, path))
    return routes


def concrete(path: str) -> str:
    return path.replace("{id}", "4711").replace("{hashtag}", "feuerwehr")


async def test_every_api_route_has_an_entry_and_every_entry_a_route(client):
    routes = api_routes(client.server.app)
    assert routes - set(ROUTE_SCOPES) == set(), "routes without a scope entry (refused to every token)"
    assert set(ROUTE_SCOPES) - routes == set(), "scope entries without a route"


async def test_a_token_whose_scopes_cover_nothing_is_refused_on_every_guarded_route(client, sessions):
    secret = await scoped_token(sessions, NOTHING)
    guarded = sorted(key for key, scopes in ROUTE_SCOPES.items() if scopes != PUBLIC)
    wrong = []
    for method, path in guarded:
        for url in (concrete(path), concrete(path) + "/"):  # the trailing-slash twin is guarded alike
            response = await client.request(method, url, headers=bearer(secret), json={})
            if response.status != 403 or await response.json() != OUTSIDE:
                wrong.append((method, url, response.status, await response.text()))
    assert wrong == [], "\n".join(map(str, wrong))


async def test_the_routes_own_granular_scope_lets_the_token_through(client, sessions):
    refused = []
    for (method, path), scopes in sorted(ROUTE_SCOPES.items()):
        if scopes == PUBLIC:
            continue
        secret = await scoped_token(sessions, scopes[-1], user=f"app{len(refused)}")
        response = await client.request(method, concrete(path), headers=bearer(secret), json={})
        if response.status == 403 and await response.json() == OUTSIDE:  # not a refusal for the user's role
            refused.append((method, path, scopes[-1], await response.text()))
    assert refused == []


async def test_parents_cover_their_granular_scopes_and_nothing_else(client, sessions):
    read, write = await scoped_token(sessions, "read"), await scoped_token(sessions, "write", user="app2")
    profile = await scoped_token(sessions, "profile", user="app3")
    assert (await client.get("/api/v1/timelines/home", headers=bearer(read))).status == 200
    assert (await client.post("/api/v1/statuses", json={"status": "Hallo"}, headers=bearer(read))).status == 403
    posted = await client.post("/api/v1/statuses", json={"status": "Hallo"}, headers=bearer(write))
    assert posted.status == 200, await posted.text()
    assert (await client.get("/api/v1/timelines/home", headers=bearer(write))).status == 403
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=bearer(profile))).status == 200
    assert (await client.get("/api/v1/timelines/home", headers=bearer(profile))).status == 403
    # Public routes answer a token whatever its scopes; an anonymous read of a public status needs none.
    assert (await client.get("/api/v1/instance", headers=bearer(profile))).status == 200
    assert (await client.get(f"/api/v1/statuses/{(await posted.json())['id']}")).status == 200
    refused = await client.get(f"/api/v1/statuses/{(await posted.json())['id']}", headers=bearer(profile))
    assert refused.status == 403 and await refused.json() == OUTSIDE


async def test_follow_covers_only_the_follow_scopes(client, sessions):
    follow = await scoped_token(sessions, "follow")
    assert (await client.get("/api/v1/accounts/relationships?id[]=1", headers=bearer(follow))).status == 200
    assert (await client.get("/api/v1/followed_tags", headers=bearer(follow))).status == 200
    assert (await client.get("/api/v1/lists", headers=bearer(follow))).status == 403


async def test_push_is_refused_gracefully(client, sessions):
    without = await scoped_token(sessions, "read write")
    assert (await client.get("/api/v1/push/subscription", headers=bearer(without))).status == 403
    push = await scoped_token(sessions, "read write push", user="app2")
    missing = await client.get("/api/v1/push/subscription", headers=bearer(push))
    assert missing.status == 404 and await missing.json() == {"error": "Record not found"}
    created = await client.post("/api/v1/push/subscription", headers=bearer(push),
                                json={"subscription": {"endpoint": "https://push.example/x"}})
    assert created.status == 422 and "not offered" in (await created.json())["error"]
    removed = await client.delete("/api/v1/push/subscription", headers=bearer(push))
    assert removed.status == 200 and await removed.json() == {}


async def test_admin_made_tokens_read_and_write_and_a_refusal_is_audited(client, sessions):
    admin_made = await make_token(sessions)
    assert (await client.get("/api/v1/timelines/home", headers=bearer(admin_made))).status == 200
    assert (await client.post("/api/v1/statuses", json={"status": "Hallo"}, headers=bearer(admin_made))).status == 200
    secret = await scoped_token(sessions, "read")
    assert (await client.post("/api/v1/statuses", json={"status": "x"}, headers=bearer(secret))).status == 403
    async with client.server.app[SESSIONS]() as session:
        reasons = (await session.scalars(select(AuditEntry.reason).where(AuditEntry.action == "token.rejected"))).all()
    assert "outside_scopes" in reasons
    assert secret not in str(reasons)
