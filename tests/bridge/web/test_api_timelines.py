"""timelines/home and /public, accounts/:id, /:id/statuses, /lookup and /relationships, with Mastodon's
pagination and Link headers, over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from activitypub.uris import INSTANCE_ACTOR_NAME
from bridge.store.models import Actor, Post, PostState
from support.api import bearer, make_token, upload


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


async def post(client, token, text: str, **fields) -> dict:
    response = await client.post("/api/v1/statuses", headers=bearer(token), json={"status": text, **fields})
    assert response.status == 200, await response.text()
    return await response.json()


async def actor_id(sessions, name: str) -> str:
    async with sessions() as session:
        return str(await session.scalar(select(Actor.id).where(Actor.name == name)))


def ids(statuses: list[dict]) -> list[str]:
    return [s["id"] for s in statuses]


async def test_home_shows_the_accounts_own_published_posts_newest_first(client, sessions, token):
    first, second = await post(client, token, "Eins"), await post(client, token, "Zwei")
    later = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    await post(client, token, "Geplant", scheduled_at=later)
    hidden = await post(client, token, "Entwurf")
    async with sessions.begin() as session:
        (await session.get(Post, int(hidden["id"]))).state = PostState.DRAFT
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    await post(client, other, "Feuerwehr wartet auf Freigabe")

    response = await client.get("/api/v1/timelines/home", headers=bearer(token))
    assert response.status == 200
    assert ids(await response.json()) == [second["id"], first["id"]]
    assert response.headers["Link"] == (
        f'<http://stadt.test/api/v1/timelines/home?max_id={first["id"]}>; rel="next", '
        f'<http://stadt.test/api/v1/timelines/home?min_id={second["id"]}>; rel="prev"')
    assert (await client.get("/api/v1/timelines/home")).status == 401


async def test_pagination_follows_mastodons_cursors(client, token):
    posted = [await post(client, token, f"Nummer {n}") for n in range(5)]  # oldest first
    newest_first = list(reversed(ids(posted)))

    async def page(**query) -> tuple[list[str], str | None]:
        response = await client.get("/api/v1/timelines/home", params=query, headers=bearer(token))
        assert response.status == 200
        return ids(await response.json()), response.headers.get("Link")

    assert (await page(limit="2"))[0] == newest_first[:2]
    older, link = await page(limit="2", max_id=newest_first[1])
    assert older == newest_first[2:4]
    assert f'limit=2&max_id={newest_first[3]}>; rel="next"' in link and f"limit=2&min_id={newest_first[2]}" in link
    assert (await page(limit="2", min_id=newest_first[4]))[0] == newest_first[2:4]  # right after min_id
    assert (await page(limit="2", since_id=newest_first[4]))[0] == newest_first[:2]  # the newest after it
    assert (await page(max_id=newest_first[0], since_id=newest_first[3]))[0] == newest_first[1:3]
    assert await page(min_id=newest_first[0]) == ([], None)
    assert len((await page(limit="1000"))[0]) == 5  # capped at 40, as Mastodon, not refused


@pytest.mark.parametrize("query", [{"limit": "zwanzig"}, {"max_id": "x"}, {"since_id": "1.5"},
                                   {"min_id": "99999999999999999999"}])
async def test_unreadable_cursors_are_a_400_not_a_crash(client, token, query):
    response = await client.get("/api/v1/timelines/home", params=query, headers=bearer(token))
    assert response.status == 400 and "error" in await response.json()


async def test_the_public_timeline_shows_every_published_post_of_the_instance(client, sessions, token):
    own = await post(client, token, "Stadt")
    with_image = await post(client, token, "Bild", media_ids=[(await upload(client, token))["id"]])
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    await post(client, other, "wartet")  # four-eyes: not public yet
    response = await client.get("/api/v1/timelines/public", params={"local": "true"})
    assert response.status == 200 and ids(await response.json()) == [with_image["id"], own["id"]]
    assert "local=true" in response.headers["Link"]
    media_only = await client.get("/api/v1/timelines/public", params={"only_media": "true"})
    assert ids(await media_only.json()) == [with_image["id"]]
    remote = await client.get("/api/v1/timelines/public", params={"remote": "true"})
    assert await remote.json() == []


async def test_an_account_and_its_statuses(client, sessions, token):
    stadt = await actor_id(sessions, "stadt")
    first = await post(client, token, "Eins #Markt")
    second = await post(client, token, "Zwei")
    account = await (await client.get(f"/api/v1/accounts/{stadt}")).json()
    assert account["acct"] == "stadt" and account["statuses_count"] == 2 and "source" not in account

    statuses = await client.get(f"/api/v1/accounts/{stadt}/statuses", params={"limit": "1"})
    assert ids(await statuses.json()) == [second["id"]]
    assert f'/api/v1/accounts/{stadt}/statuses?limit=1&max_id={second["id"]}' in statuses.headers["Link"]
    tagged = await client.get(f"/api/v1/accounts/{stadt}/statuses", params={"tagged": "markt"})
    assert ids(await tagged.json()) == [first["id"]]
    pinned = await client.get(f"/api/v1/accounts/{stadt}/statuses", params={"pinned": "true"})
    assert await pinned.json() == []
    feuerwehr = await actor_id(sessions, "feuerwehr")
    assert await (await client.get(f"/api/v1/accounts/{feuerwehr}/statuses")).json() == []


@pytest.mark.parametrize("path", ["/api/v1/accounts/424242", "/api/v1/accounts/424242/statuses",
                                  "/api/v1/accounts/nobody", "/api/v1/accounts/99999999999999999999",
                                  # beyond 32 bits: accounts' ids are, and PostgreSQL refused the query (a 500)
                                  "/api/v1/accounts/117729720016447492", "/api/v1/accounts/2147483648/statuses"])
async def test_unknown_accounts_are_not_found(client, path):
    response = await client.get(path)
    assert response.status == 404 and await response.json() == {"error": "Record not found"}


async def test_the_instance_actor_is_no_account(client, sessions):
    async with sessions() as session:
        instance_actor = await session.scalar(select(Actor.id).where(Actor.name == INSTANCE_ACTOR_NAME))
    assert instance_actor is not None
    for path in (f"/api/v1/accounts/{instance_actor}", f"/api/v1/accounts/lookup?acct={INSTANCE_ACTOR_NAME}"):
        response = await client.get(path)
        assert response.status == 404 and await response.json() == {"error": "Record not found"}


@pytest.mark.parametrize("acct", ["stadt", "@stadt", "stadt@stadt.test"])
async def test_lookup_finds_the_accounts_of_this_server(client, sessions, acct):
    response = await client.get("/api/v1/accounts/lookup", params={"acct": acct})
    assert response.status == 200 and (await response.json())["id"] == await actor_id(sessions, "stadt")


@pytest.mark.parametrize("acct", [None, "", "niemand", "stadt@example.org"])
async def test_lookup_of_anything_else_is_not_found(client, acct):
    response = await client.get("/api/v1/accounts/lookup", params={} if acct is None else {"acct": acct})
    assert response.status == 404 and await response.json() == {"error": "Record not found"}


async def test_relationships_leave_out_ids_no_account_can_have(client, token):
    response = await client.get("/api/v1/accounts/relationships?id[]=117729720016447492", headers=bearer(token))
    assert response.status == 200 and await response.json() == []


async def test_relationships_are_all_false_for_known_accounts(client, sessions, token):
    stadt, feuerwehr = await actor_id(sessions, "stadt"), await actor_id(sessions, "feuerwehr")
    response = await client.get("/api/v1/accounts/relationships", headers=bearer(token),
                                params=[("id[]", stadt), ("id[]", "12345"), ("id[]", "abc"), ("id[]", feuerwehr)])
    assert response.status == 200
    body = await response.json()
    assert [r["id"] for r in body] == [stadt, feuerwehr]
    assert not any(value for r in body for key, value in r.items() if key not in ("id", "note", "languages"))
    assert (await client.get("/api/v1/accounts/relationships", params={"id": stadt})).status == 401
