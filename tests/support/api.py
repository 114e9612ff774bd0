"""Helpers for the API tests: users with tokens, bearer headers, real PNG images."""

from __future__ import annotations

import io

from aiohttp import FormData
from PIL import Image

from bridge.auth.tokens import create_token
from bridge.auth.users import create_user, find_user


async def make_token(sessions, user: str = "skript", actors: tuple[str, ...] = ("stadt",),
                     actor: str = "stadt", role: str = "editor") -> str:
    """A user (created if new) with a token for `actor`; returns the clear token."""
    async with sessions.begin() as session:
        if await find_user(session, user) is None:
            await create_user(session, user, role, list(actors))
        result = await create_token(session, user, actor)
    assert result.ok, result.reason
    return result.secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def png_bytes(width: int = 8, height: int = 6) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def media_form(description: str | None = "Rotes Rechteck", data: bytes | None = None) -> FormData:
    form = FormData()
    form.add_field("file", data if data is not None else png_bytes(), filename="bild.png",
                   content_type="image/png")
    if description is not None:
        form.add_field("description", description)
    return form


async def upload(client, secret: str, description: str = "Rotes Rechteck") -> dict:
    response = await client.post("/api/v2/media", data=media_form(description), headers=bearer(secret))
    assert response.status == 200, await response.text()
    return await response.json()
