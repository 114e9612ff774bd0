"""Helpers for the API tests: users with tokens, bearer headers, real PNG images."""

from __future__ import annotations

import io
import struct
import zlib

from aiohttp import FormData
from PIL import Image
from sqlalchemy import select

from bridge.auth.tokens import create_token, issue_token
from bridge.auth.users import create_user, find_user
from bridge.store.models import Actor


async def make_token(sessions, user: str = "skript", actors: tuple[str, ...] = ("stadt",),
                     actor: str = "stadt", role: str = "editor") -> str:
    """A user (created if new) with a token for `actor`; returns the clear token."""
    async with sessions.begin() as session:
        if await find_user(session, user) is None:
            await create_user(session, user, role, list(actors))
        result = await create_token(session, user, actor)
    assert result.ok, result.reason
    return result.secret


async def scoped_token(sessions, scopes: str, user: str = "app", actor: str = "stadt") -> str:
    """A token as an app obtains it through OAuth: limited to `scopes` (an editor `user` is created if new)."""
    async with sessions.begin() as session:
        person = await find_user(session, user) or (await create_user(session, user, "editor", [actor]))[0]
        row = await session.scalar(select(Actor).where(Actor.name == actor))
        result = await issue_token(session, person, row, scopes=scopes)
    return result.secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def png_bytes(width: int = 8, height: int = 6) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid PNG header announcing 900 megapixels: a few hundred bytes on the wire."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    row = b"\0" + b"\0" * width
    body = zlib.compress(row * 8)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


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
