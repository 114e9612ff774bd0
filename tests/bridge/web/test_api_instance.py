"""GET /api/v1/instance and /api/v2/instance reflect the configured limits."""

from __future__ import annotations

import pytest
from support.api import bearer, make_token

from bridge.app import create_app
from bridge.appkeys import CONFIG, SESSIONS

LIMITS = {"max_characters": 1000, "max_images": 2, "max_image_bytes": 5_000_000, "max_image_pixels": 4_000_000}


@pytest.fixture
async def limited(aiohttp_client, make_config, booted):
    return await aiohttp_client(create_app(make_config(limits=LIMITS), run_worker=False))


async def test_instance_v2_shows_the_configured_limits(limited):
    response = await limited.get("/api/v2/instance")
    assert response.status == 200
    instance = await response.json()
    assert instance["domain"] == "stadt.test" and instance["title"] == "Stadt Teststadt"
    assert instance["version"].startswith("4.3.0 (compatible; Stadtbote ")
    assert instance["api_versions"] == {"mastodon": 2}
    assert instance["configuration"]["statuses"] == {"max_characters": 1000, "max_media_attachments": 2,
                                                     "characters_reserved_per_url": 23}
    media = instance["configuration"]["media_attachments"]
    assert media["image_size_limit"] == 5_000_000 and media["image_matrix_limit"] == 4_000_000
    assert "image/png" in media["supported_mime_types"]
    assert not any(t.startswith("video/") for t in media["supported_mime_types"])
    assert instance["registrations"]["enabled"] is False
    assert instance["contact"]["email"] == "dpo@stadt.test"
    assert instance["contact"]["account"]["username"] == "stadt"
    assert instance["languages"][0] == "en"


async def test_instance_v1_shows_the_configured_limits(limited):
    response = await limited.get("/api/v1/instance")
    assert response.status == 200
    instance = await response.json()
    assert instance["uri"] == "stadt.test" and instance["registrations"] is False
    assert instance["configuration"]["statuses"]["max_characters"] == 1000
    assert instance["configuration"]["statuses"]["max_media_attachments"] == 2
    assert instance["configuration"]["media_attachments"]["image_matrix_limit"] == 4_000_000
    assert instance["email"] == "dpo@stadt.test"
    assert instance["stats"]["user_count"] == len(limited.app[CONFIG].actors)  # every configured account
    assert "Set-Cookie" not in response.headers


async def test_the_instance_endpoints_need_no_token(client):
    for path in ("/api/v1/instance", "/api/v2/instance"):
        response = await client.get(path)
        assert response.status == 200
        assert (await response.json())["configuration"]["statuses"]["max_characters"] == 500


async def test_a_limit_enforced_by_posting_is_the_one_the_instance_announces(limited):
    secret = await make_token(limited.app[SESSIONS])
    ok = await limited.post("/api/v1/statuses", json={"status": "a" * 1000}, headers=bearer(secret))
    too_long = await limited.post("/api/v1/statuses", json={"status": "a" * 1001}, headers=bearer(secret))
    assert (ok.status, too_long.status) == (200, 422)
