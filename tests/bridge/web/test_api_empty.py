"""What apps call at start-up and Stadtbote keeps nothing of: empty answers in Mastodon's shapes, and
Mastodon's 404 for every unknown /api/ path."""

from __future__ import annotations

import pytest

from support.api import bearer, make_token


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


FOR_TOKEN = ["/api/v1/notifications", "/api/v2/filters", "/api/v1/filters", "/api/v1/lists", "/api/v1/followed_tags",
             "/api/v1/announcements", "/api/v1/follow_requests", "/api/v2/suggestions", "/api/v1/conversations",
             "/api/v1/bookmarks", "/api/v1/favourites", "/api/v1/mutes", "/api/v1/blocks", "/api/v1/featured_tags",
             "/api/v1/notifications/requests"]
PUBLIC = ["/api/v1/custom_emojis", "/api/v1/trends/tags", "/api/v1/trends", "/api/v1/trends/statuses",
          "/api/v1/trends/links"]


@pytest.mark.parametrize("path", FOR_TOKEN)
async def test_the_accounts_lists_are_empty_and_need_a_token(client, token, path):
    response = await client.get(path, headers=bearer(token))
    assert response.status == 200 and await response.json() == []
    assert (await client.get(f"{path}/", headers=bearer(token))).status == 200  # trailing slash, as Mastodon
    refused = await client.get(path)
    assert refused.status == 401 and "error" in await refused.json()


@pytest.mark.parametrize("path", PUBLIC)
async def test_public_lists_are_empty_without_a_token(client, path):
    response = await client.get(path)
    assert response.status == 200 and await response.json() == []


async def test_notifications_can_be_dismissed_counted_and_cleared(client, token):
    dismissed = await client.post("/api/v1/notifications/123/dismiss", headers=bearer(token))
    assert dismissed.status == 200 and await dismissed.json() == {}
    assert (await client.post("/api/v1/notifications/123/dismiss")).status == 401
    bad = await client.post("/api/v1/notifications/abc/dismiss", headers=bearer(token))
    assert bad.status == 404 and await bad.json() == {"error": "Record not found"}
    count = await client.get("/api/v1/notifications/unread_count", headers=bearer(token))
    assert await count.json() == {"count": 0}
    assert await (await client.post("/api/v1/notifications/clear", headers=bearer(token))).json() == {}
    grouped = await client.get("/api/v2/notifications", headers=bearer(token))
    assert await grouped.json() == {"accounts": [], "statuses": [], "notification_groups": []}
    policy = await (await client.get("/api/v2/notifications/policy", headers=bearer(token))).json()
    assert policy["for_not_following"] == "accept" and policy["summary"]["pending_requests_count"] == 0


async def test_markers_are_an_empty_object_and_a_new_one_is_accepted(client, token):
    response = await client.get("/api/v1/markers", params=[("timeline[]", "home")], headers=bearer(token))
    assert response.status == 200 and await response.json() == {}
    response = await client.post("/api/v1/markers", json={"home": {"last_read_id": "1"}}, headers=bearer(token))
    assert response.status == 200 and await response.json() == {}
    assert (await client.get("/api/v1/markers")).status == 401


async def test_preferences_are_the_public_defaults(client, config, token):
    response = await client.get("/api/v1/preferences", headers=bearer(token))
    assert response.status == 200
    assert await response.json() == {"posting:default:visibility": "public", "posting:default:sensitive": False,
                                     "posting:default:language": config.instance.language,
                                     "reading:expand:media": "default", "reading:expand:spoilers": False}


@pytest.mark.parametrize("method, path", [("GET", "/api/v1/unbekannt"), ("GET", "/api/v1/domain_blocks"),
                                          ("POST", "/api/v1/statuses/1/favourite"), ("GET", "/api/v9/instance"),
                                          ("PATCH", "/api/v1/statuses"), ("GET", "/api/"), ("DELETE", "/api/v1/lists")])
async def test_unknown_api_endpoints_answer_mastodons_404(client, token, method, path):
    response = await client.request(method, path, headers=bearer(token))
    assert response.status == 404 and await response.json() == {"error": "Record not found"}
