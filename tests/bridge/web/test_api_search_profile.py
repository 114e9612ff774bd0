"""`/api/v2/search` over this server's accounts, posts and hashtags (nothing fetched from elsewhere), the tag
timeline, and the account lists that show no people (`update_credentials`: test_api_profile.py)."""

from __future__ import annotations

import pytest

from support.api import bearer, make_token


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


async def post(client, token: str, text: str) -> dict:
    response = await client.post("/api/v1/statuses", json={"status": text}, headers=bearer(token))
    assert response.status == 200, await response.text()
    return await response.json()


async def search(client, token: str | None, **params) -> dict:
    response = await client.get("/api/v2/search", params=params, headers=bearer(token) if token else {})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_search_finds_accounts_posts_and_hashtags_of_this_server(client, token):
    market = await post(client, token, "Der Wochenmarkt ist heute geöffnet #Markt")
    await post(client, token, "Straßensperrung am Rathaus #Verkehr")
    found = await search(client, token, q="wochenmarkt")
    assert [s["id"] for s in found["statuses"]] == [market["id"]] and found["accounts"] == []
    assert [t["name"] for t in (await search(client, token, q="#mar"))["hashtags"]] == ["markt"]
    assert [a["acct"] for a in (await search(client, token, q="feuer"))["accounts"]] == ["feuerwehr"]
    assert [a["acct"] for a in (await search(client, None, q="@stadt", type="accounts"))["accounts"]] == ["stadt"]
    only = await search(client, token, q="markt", type="hashtags")
    assert only["statuses"] == [] and [t["name"] for t in only["hashtags"]] == ["markt"]
    # LIKE's own characters are taken literally; resolve finds only what is here.
    assert (await search(client, token, q="%"))["statuses"] == []
    assert await search(client, token, q="https://mastodon.example/@someone", resolve="true") == \
        {"accounts": [], "statuses": [], "hashtags": []}
    assert (await search(client, token, q="rathaus", offset="1"))["statuses"] == []
    bad = await client.get("/api/v2/search", params={"q": "x", "type": "people"}, headers=bearer(token))
    assert bad.status == 400 and (await bad.json())["reason"] == "bad_type"
    bad = await client.get("/api/v2/search", params={"q": "x", "limit": "viele"}, headers=bearer(token))
    assert bad.status == 400 and (await bad.json())["reason"] == "bad_limit"


async def test_addresses_of_this_server_find_what_they_name_and_accounts_search_completes(client, config, token):
    market = await post(client, token, "Wochenmarkt")
    base = config.instance.base_url.rstrip("/")
    for address in (market["url"], market["uri"]):
        found = await search(client, token, q=address, resolve="true")
        assert [s["id"] for s in found["statuses"]] == [market["id"]] and found["hashtags"] == []
    assert (await search(client, token, q=f"{base}/@feuerwehr/{market['id']}"))["statuses"] == []
    assert [a["acct"] for a in (await search(client, token, q=f"{base}/@stadt"))["accounts"]] == ["stadt"]
    assert (await search(client, token, q="stadt@mastodon.example"))["accounts"] == []
    completed = await client.get("/api/v1/accounts/search", params={"q": "feu", "limit": "5"}, headers=bearer(token))
    assert completed.status == 200 and [a["acct"] for a in await completed.json()] == ["feuerwehr"]
    assert (await client.get("/api/v1/accounts/search", params={"q": "feu"})).status == 401


async def test_the_tag_timeline_lists_published_posts_with_the_tag(client, token):
    tagged = await post(client, token, "Hochwasserwarnung #Hochwasser")
    await post(client, token, "Etwas anderes")
    response = await client.get("/api/v1/timelines/tag/hochwasser")
    assert response.status == 200 and [s["id"] for s in await response.json()] == [tagged["id"]]
    assert await (await client.get("/api/v1/timelines/tag/gibtsnicht")).json() == []


async def test_followers_and_following_are_empty_lists_and_unknown_accounts_are_not_found(client, token):
    me = await (await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))).json()
    for part in ("followers", "following", "featured_tags"):
        response = await client.get(f"/api/v1/accounts/{me['id']}/{part}")
        assert response.status == 200 and await response.json() == []
        missing = await client.get(f"/api/v1/accounts/999999/{part}")
        assert missing.status == 404 and await missing.json() == {"error": "Record not found"}
