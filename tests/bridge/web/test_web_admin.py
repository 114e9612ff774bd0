"""User and token administration as an admin sees it; one-time secrets are shown once."""

from __future__ import annotations

import re

from sqlalchemy import select

from bridge.store.models import ApiToken, User
from bridge.auth.tokens import digest
from support.web import admin_ready, make_user, sign_in, signed_in, visitors  # noqa: F401


async def admin(visitors, sessions):
    return await signed_in(visitors(), sessions, await admin_ready(sessions))


def one_time(page) -> str:
    return re.search(r'<code id="one-time-password">([^<]+)</code>', page.text).group(1)


async def user_id(sessions, name: str) -> int:
    async with sessions() as session:
        return await session.scalar(select(User.id).where(User.name == name))


async def test_an_admin_creates_an_editor_who_must_change_the_one_time_password(visitors, sessions):
    boss = await admin(visitors, sessions)
    page = await boss.post("/admin/users", {"name": "erika", "role": "editor", "actors": "stadt"})
    assert page.status == 200 and page.has("User erika was created") and page.has("It is shown only this once.")
    password = one_time(page)
    listing = await boss.get("/admin/users")
    assert listing.has("erika Editor stadt one-time password not yet changed")
    assert password not in listing.text
    erika = visitors()
    assert (await sign_in(erika, "erika", password)).location == "/password"


async def test_bad_user_names_and_duplicates_are_refused_with_the_form_kept(visitors, sessions):
    boss = await admin(visitors, sessions)
    page = await boss.post("/admin/users", {"name": "Erika Muster", "role": "editor", "actors": "feuerwehr"})
    assert page.status == 422 and page.has("user names use 2-64 lowercase letters")
    assert 'value="erika muster"' in page.text and 'value="feuerwehr" checked' in page.text
    page = await boss.post("/admin/users", {"name": "admin", "role": "editor"})
    assert page.status == 422 and page.has("a user with this name exists already")


async def test_an_admin_changes_role_and_accounts(visitors, sessions):
    boss = await admin(visitors, sessions)
    erika_id, _ = await make_user(sessions, "erika", actors=("stadt",))
    page = await boss.post(f"/admin/users/{erika_id}/access", {"role": "editor", "actors": "feuerwehr"})
    assert page.status == 303
    assert (await boss.get(page.location)).has("Role and accounts were saved.")
    erika = await signed_in(visitors(), sessions, erika_id)
    dashboard = await erika.get("/editor")
    assert "/editor/actors/feuerwehr" in dashboard.text and "/editor/actors/stadt" not in dashboard.text
    page = await boss.post(f"/admin/users/{erika_id}/access", {"role": "dpo"})
    assert (await erika.get("/editor")).status == 403


async def test_an_admin_cannot_demote_or_disable_themselves(visitors, sessions):
    boss = await admin(visitors, sessions)
    own = await user_id(sessions, "admin")
    page = await boss.post(f"/admin/users/{own}/access", {"role": "editor"})
    assert page.status == 409 and page.has("You cannot do this to your own user")
    assert (await boss.post(f"/admin/users/{own}/disable")).status == 409
    assert (await boss.get("/admin/users")).status == 200


async def test_a_password_reset_shows_a_new_one_time_password_and_signs_the_user_out(visitors, sessions):
    boss = await admin(visitors, sessions)
    erika_id, old = await make_user(sessions, "erika")
    erika = await signed_in(visitors(), sessions, erika_id)
    page = await boss.post(f"/admin/users/{erika_id}/reset")
    assert page.status == 200 and page.has("New password for erika")
    new = one_time(page)
    assert (await erika.get("/editor")).status == 303
    assert (await sign_in(visitors(), "erika", old)).status == 401
    assert (await sign_in(visitors(), "erika", new)).location == "/password"


async def test_an_admin_creates_and_revokes_an_api_token(visitors, sessions):
    boss = await admin(visitors, sessions)
    await make_user(sessions, "robot", actors=("stadt",))
    page = await boss.post("/admin/tokens", {"user": "robot", "actor": "feuerwehr", "label": "Pressetool"})
    assert page.status == 422 and page.has("the user may not post as this account")
    page = await boss.post("/admin/tokens", {"user": "robot", "actor": "stadt", "label": "Pressetool"})
    assert page.status == 200 and page.has("Token for robot as stadt:")
    secret = re.search(r'<code id="token">([^<]+)</code>', page.text).group(1)
    async with sessions() as session:
        [token] = (await session.scalars(select(ApiToken))).all()
    assert token.token_sha256 == digest(secret)
    listing = await boss.get("/admin/tokens")
    assert listing.has("Pressetool robot stadt") and secret not in listing.text
    assert (await boss.post(f"/admin/tokens/{token.id}/revoke")).status == 303
    assert (await boss.get("/admin/tokens")).has("revoked")
    async with sessions() as session:
        assert (await session.get(ApiToken, token.id)).revoked_at is not None
