"""POST /api/v2/media: images with mandatory descriptions, re-encoded, returned as MediaAttachment."""

from __future__ import annotations

import io

import pytest
from support.api import bearer, make_token, media_form, png_bytes
from PIL import Image
from sqlalchemy import func, select

from bridge.app import create_app
from bridge.appkeys import SESSIONS
from bridge.store.models import Media


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


async def count_media(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count(Media.id)))


async def test_an_image_with_a_description_becomes_a_media_attachment(client, sessions, token):
    response = await client.post("/api/v2/media", data=media_form("Rathaus bei Nacht"), headers=bearer(token))
    assert response.status == 200, await response.text()
    media = await response.json()
    assert media["type"] == "image" and media["description"] == "Rathaus bei Nacht"
    assert media["id"].isdigit()
    assert media["url"].startswith("http://stadt.test/media/") and media["url"].endswith(".png")
    assert media["meta"]["original"] == {"width": 8, "height": 6, "size": "8x6", "aspect": 8 / 6}
    assert "Set-Cookie" not in response.headers
    assert await count_media(sessions) == 1


async def test_the_v1_media_endpoint_behaves_the_same(client, token):
    response = await client.post("/api/v1/media", data=media_form(), headers=bearer(token))
    assert response.status == 200


@pytest.mark.parametrize("description", [None, "", "   "])
async def test_an_image_without_a_description_is_refused(client, sessions, token, description):
    response = await client.post("/api/v2/media", data=media_form(description), headers=bearer(token))
    assert response.status == 422
    error = (await response.json())["error"]
    assert error.startswith("Validation failed: description can't be blank") and "alt text" in error
    assert await count_media(sessions) == 0


async def test_a_request_without_a_file_is_refused(client, token):
    response = await client.post("/api/v2/media", data={"description": "nichts"}, headers=bearer(token))
    assert response.status == 422
    assert "file" in (await response.json())["error"]


async def test_a_file_that_is_no_image_is_refused_with_the_reason(client, token):
    response = await client.post("/api/v2/media", data=media_form("Text", b"kein Bild"), headers=bearer(token))
    assert response.status == 422
    assert "could not be read as an image" in (await response.json())["error"]


async def test_an_image_over_the_pixel_limit_is_refused(aiohttp_client, make_config, booted):
    config = make_config(limits={"max_image_pixels": 100})
    client = await aiohttp_client(create_app(config, run_worker=False))
    secret = await make_token(client.app[SESSIONS])
    response = await client.post("/api/v2/media", data=media_form("Groß", png_bytes(20, 20)), headers=bearer(secret))
    assert response.status == 422
    assert "more pixels than allowed" in (await response.json())["error"]


async def test_a_description_over_1500_characters_is_refused(client, token):
    response = await client.post("/api/v2/media", data=media_form("x" * 1501), headers=bearer(token))
    assert response.status == 422


async def test_uploading_without_a_token_is_unauthorized(client):
    assert (await client.post("/api/v2/media", data=media_form())).status == 401


async def test_exif_metadata_does_not_survive_the_upload(client, sessions, token, config):
    image = Image.new("RGB", (10, 10))
    exif = Image.Exif()
    exif[0x010F] = "GeheimeKamera"  # Make
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif.tobytes())
    form = media_form("Kamera", raw.getvalue())
    media = await (await client.post("/api/v2/media", data=form, headers=bearer(token))).json()
    stored = (config.instance.data_dir / "media" / media["url"].rsplit("/", 1)[1]).read_bytes()
    assert b"GeheimeKamera" not in stored
