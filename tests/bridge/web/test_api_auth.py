"""Bearer tokens on the API: Mastodon's 401/403 answers, and no cookies ever."""

from __future__ import annotations

import pytest
from support.api import bearer, make_token
from sqlalchemy import select

from bridge.store.models import ApiToken, User
from bridge.auth.tokens import revoke_token
from bridge.auth.users import disable_user, set_actors

INVALID = {"error": "The access token is invalid"}


async def post_status(client, headers):
    return await client.post("/api/v1/statuses", data={"status": "Hallo"}, headers=headers)


async def test_without_a_token_posting_is_unauthorized(client):
    response = await post_status(client, {})
    assert response.status == 401
    assert await response.json() == INVALID


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic dXNlcjpwdw==", "token abc", "Bearer falsch"])
async def test_a_malformed_or_unknown_authorization_is_unauthorized(client, sessions, header):
    await make_token(sessions)
    response = await post_status(client, {"Authorization": header})
    assert response.status == 401
    assert await response.json() == INVALID


async def test_a_revoked_token_is_unauthorized(client, sessions):
    secret = await make_token(sessions)
    async with sessions.begin() as session:
        await revoke_token(session, (await session.scalar(select(ApiToken))).id)
    response = await post_status(client, bearer(secret))
    assert response.status == 401
    assert await response.json() == {"error": "The access token was revoked"}


async def test_disabling_a_user_revokes_their_tokens_for_good(client, sessions):
    """Issue 20: disabling revokes (not only suspends) the user's tokens, so enabling them again does not
    bring an app's old sign-in back."""
    secret = await make_token(sessions)
    async with sessions.begin() as session:
        await disable_user(session, await session.scalar(select(User).where(User.name == "skript")), None)
    response = await post_status(client, bearer(secret))
    assert response.status == 401
    assert await response.json() == {"error": "The access token was revoked"}
    async with sessions.begin() as session:
        (await session.scalar(select(User).where(User.name == "skript"))).disabled = False
        assert (await session.scalar(select(ApiToken))).revoked_at is not None
    assert (await post_status(client, bearer(secret))).status == 401


async def test_a_token_whose_user_lost_the_account_is_forbidden(client, sessions):
    secret = await make_token(sessions)
    async with sessions.begin() as session:
        user = await session.scalar(select(User).where(User.name == "skript"))
        await set_actors(session, user, ["feuerwehr"], by=user)
    for response in (await post_status(client, bearer(secret)),
                     await client.get("/api/v1/accounts/verify_credentials", headers=bearer(secret))):
        assert response.status == 403
        assert "error" in await response.json()


async def test_a_token_keeps_working_and_records_its_last_use(client, sessions):
    secret = await make_token(sessions)
    assert (await post_status(client, bearer(secret))).status == 200
    async with sessions() as session:
        assert (await session.scalar(select(ApiToken))).last_used_at is not None


async def test_api_answers_never_set_cookies(client, sessions):
    secret = await make_token(sessions)
    responses = [
        await post_status(client, bearer(secret)),
        await post_status(client, {}),
        await client.get("/api/v1/accounts/verify_credentials", headers=bearer(secret)),
        await client.get("/api/v1/instance"),
        await client.get("/api/v2/instance"),
        await client.get("/api/v1/statuses/1"),
    ]
    for response in responses:
        assert "Set-Cookie" not in response.headers, response.url


async def test_api_posts_need_no_csrf_token_but_answer_in_json(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status == 404
    assert "error" in await response.json()


async def test_verify_credentials_describes_the_tokens_account_with_source(client, sessions):
    secret = await make_token(sessions)
    await post_status(client, bearer(secret))
    response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(secret))
    assert response.status == 200
    account = await response.json()
    assert account["username"] == "stadt" and account["acct"] == "stadt"
    assert account["display_name"] == "Stadt Teststadt"
    assert account["note"] == "<p>Die Stadt.</p>"
    assert account["url"] == "http://stadt.test/@stadt"
    assert account["statuses_count"] == 1 and account["last_status_at"]
    assert account["source"]["note"] == "Die Stadt." and account["source"]["privacy"] == "public"
    assert response.headers["Cache-Control"] == "private, no-store"


async def test_verify_credentials_without_a_token_is_unauthorized(client):
    assert (await client.get("/api/v1/accounts/verify_credentials")).status == 401
