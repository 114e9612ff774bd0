"""Helpers for the editorial web tests: browsers with their own cookies, sign-in, users, images."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from html import unescape

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import select, update
from yarl import URL

from bridge.app import create_app
from bridge.store.models import Post, User, WebSession
from bridge.auth.users import create_user

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Page:
    status: int
    text: str
    headers: dict
    set_cookies: list[str]

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def has(self, text: str) -> bool:
        """Whether the visible page contains `text` (tags dropped, entities decoded, whitespace collapsed)."""
        visible = unescape(re.sub(r"<[^>]*>", " ", self.text))
        return " ".join(text.split()) in " ".join(visible.split())


class Visitor:
    """One browser against the test server: its own cookie jar, the CSRF token of the last page seen."""

    def __init__(self, client):
        self.client = client
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    def url(self, path: str) -> URL:
        return self.client.make_url(path)

    async def _page(self, response: aiohttp.ClientResponse) -> Page:
        text = await response.text()
        found = CSRF.search(text)
        if found:
            self.csrf = unescape(found.group(1))
        return Page(response.status, text, dict(response.headers), response.headers.getall("Set-Cookie", []))

    async def get(self, path: str) -> Page:
        async with self.session.get(self.url(path), allow_redirects=False) as response:
            return await self._page(response)

    async def post(self, path: str, fields=None, *, csrf: bool = True) -> Page:
        """Posts a form; `fields` is a dict or an aiohttp.FormData. The CSRF token is added unless told."""
        data = fields if isinstance(fields, aiohttp.FormData) else aiohttp.FormData(list((fields or {}).items()))
        if csrf:
            data.add_field("csrf", self.csrf)
        async with self.session.post(self.url(path), data=data, allow_redirects=False) as response:
            return await self._page(response)

    def cookie(self, name: str = "stadtbote") -> str | None:
        for cookie in self.session.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return None

    async def close(self) -> None:
        await self.session.close()


@pytest.fixture
async def visitors(client):
    """`visitors()` opens another browser (on another app's test client if given); all close after the test."""
    opened: list[Visitor] = []

    def make(other_client=None) -> Visitor:
        opened.append(Visitor(other_client or client))
        return opened[-1]

    yield make
    for v in opened:
        await v.close()


async def sign_in(visitor: Visitor, name: str, password: str, next_path: str = "") -> Page:
    await visitor.get("/signin")
    fields = {"name": name, "password": password}
    if next_path:
        fields["next"] = next_path
    return await visitor.post("/signin", fields)


async def make_user(sessions, name: str, role: str = "editor", actors=("stadt",), ready: bool = True
                    ) -> tuple[int, str]:
    """A user; `ready` means the one-time password was already replaced (so no forced change)."""
    async with sessions.begin() as session:
        user, password = await create_user(session, name, role, list(actors))
        user.must_change_password = not ready
        return user.id, password


async def admin_ready(sessions) -> int:
    async with sessions.begin() as session:
        admin = await session.scalar(select(User).where(User.name == "admin"))
        admin.must_change_password = False
        return admin.id


async def signed_in(visitor: Visitor, sessions, user_id: int) -> Visitor:
    """Signs a visitor in without a password check (Argon2 is slow); the sign-in itself is tested apart."""
    token = secrets.token_urlsafe(32)
    async with sessions.begin() as session:
        session.add(WebSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user_id,
                               csrf_token=secrets.token_urlsafe(32)))
    visitor.session.cookie_jar.update_cookies({"stadtbote": token}, visitor.url("/"))
    await visitor.get("/password")  # picks up the session's CSRF token
    return visitor


async def editor(visitors, sessions, name: str, actors=("stadt",)) -> Visitor:
    user_id, _ = await make_user(sessions, name, "editor", actors)
    return await signed_in(visitors(), sessions, user_id)


async def client_for(aiohttp_client, config):
    """A test client of an app with a config of the test's own (same database as `booted`)."""
    return await aiohttp_client(create_app(config, run_worker=False))


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 30), exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    if exif is not None:
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


def compose_form(text: str = "Hallo", actor: str = "stadt", language: str = "de", **extra) -> aiohttp.FormData:
    data = aiohttp.FormData()
    for key, value in {"actor": actor, "text": text, "spoiler_text": "", "language": language,
                       "publish_at": "", **extra}.items():
        data.add_field(key, value)
    return data


def add_image(data: aiohttp.FormData, index: int, content: bytes, alt: str = "", filename: str = "bild.png",
              content_type: str = "image/png") -> aiohttp.FormData:
    data.add_field(f"image{index}", content, filename=filename, content_type=content_type)
    data.add_field(f"alt{index}", alt)
    return data


def post_id_from(page: Page) -> int:
    found = re.search(r"/editor/posts/(\d+)$", page.location)
    assert found, f"not a post page redirect: {page.status} {page.location}"
    return int(found.group(1))


async def count_posts(sessions) -> int:
    async with sessions() as session:
        return len((await session.scalars(select(Post.id))).all())


async def set_rows(sessions, statement) -> None:
    async with sessions.begin() as session:
        await session.execute(statement)


__all__ = ["Page", "Visitor", "visitors", "sign_in", "make_user", "admin_ready", "signed_in", "editor",
           "client_for", "image_bytes", "compose_form", "add_image", "post_id_from", "count_posts", "set_rows", "update"]
