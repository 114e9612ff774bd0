"""OAuth 2 as Mastodon apps use it, over real HTTP: registration, consent, code, token, revocation, and
every refusal with RFC 6749's error codes (never a 5xx)."""

from __future__ import annotations

from datetime import timedelta

import re
from html import unescape

import base64
import pytest
from sqlalchemy import select, update

from bridge.store.db import utcnow
from bridge.store.models import ApiToken, OAuthApp, OAuthCode, User
from support.api import bearer
from support.oauth import (
    CALLBACK, OOB, authorize_path, consent, exchange, hidden_fields, pkce_pair, redirect_params, register,
)
from support.web import admin_ready, editor, make_user, sign_in, signed_in, visitors  # noqa: F401


async def code_for(visitors, sessions, client, app, name="erika", actors=("stadt", "feuerwehr"), **authorize):
    erika = await editor(visitors, sessions, name, actors)
    page = await consent(erika, app, **authorize)
    assert page.status == 302, (page.status, page.text[:300])
    return redirect_params(page.location)["code"]


async def token_for(visitors, sessions, client, app, **authorize) -> str:
    code = await code_for(visitors, sessions, client, app, **authorize)
    response = await exchange(client, app, code)
    assert response.status == 200, await response.text()
    return (await response.json())["access_token"]


async def error_of(response) -> tuple[int, str]:
    assert response.headers["Content-Type"].startswith("application/json")
    body = await response.json()
    assert body["error_description"]
    return response.status, body["error"]


# Registration

async def test_an_app_registers_with_a_form_and_gets_mastodons_credential_application(client, sessions):
    app = await register(client)
    assert set(app) == {"id", "name", "website", "scopes", "redirect_uri", "redirect_uris", "client_id",
                        "client_secret", "client_secret_expires_at", "vapid_key"}
    assert app["name"] == "Tusky" and app["website"] == "https://tusky.app" and isinstance(app["id"], str)
    assert app["scopes"] == ["read", "write", "push"]
    assert app["redirect_uris"] == [CALLBACK, OOB] and app["redirect_uri"] == f"{CALLBACK}\n{OOB}"
    async with sessions() as session:
        stored = await session.scalar(select(OAuthApp))
    assert stored.client_id == app["client_id"]
    assert app["client_secret"] not in repr(vars(stored))  # only its hash is kept


async def test_an_app_registers_with_json_and_an_array_of_redirect_uris(client):
    response = await client.post("/api/v1/apps", json={"client_name": "Elk", "redirect_uris": [CALLBACK, OOB],
                                                       "scopes": "read write follow push"})
    assert response.status == 200
    body = await response.json()
    assert body["redirect_uris"] == [CALLBACK, OOB] and body["website"] is None


async def test_without_scopes_an_app_gets_read_as_in_mastodon(client):
    response = await client.post("/api/v1/apps", data={"client_name": "Skript", "redirect_uris": OOB})
    assert (await response.json())["scopes"] == ["read"]


@pytest.mark.parametrize("fields, message", [
    ({"client_name": ""}, "Name can't be blank"),
    ({"client_name": "x" * 61}, "Name is too long (maximum is 60 characters)"),
    ({"redirect_uris": ""}, "Redirect URI can't be blank"),
    ({"redirect_uris": "/callback"}, "Redirect URI must be an absolute URI."),
    ({"redirect_uris": "https://app.example/cb#x"}, "Redirect URI cannot contain a fragment."),
    ({"redirect_uris": "javascript:alert(1)"}, "Redirect URI is forbidden by the server."),
    ({"scopes": "read wrote"}, "Scopes doesn't match configured on the server."),
    ({"website": "ftp://app.example"}, "Website is invalid"),
])
async def test_a_bad_registration_is_refused_with_mastodons_validation_error(client, sessions, fields, message):
    body = {"client_name": "Tusky", "redirect_uris": CALLBACK} | fields
    response = await client.post("/api/v1/apps", data=body)
    assert response.status == 422
    assert await response.json() == {"error": f"Validation failed: {message}"}
    async with sessions() as session:
        assert await session.scalar(select(OAuthApp)) is None


async def test_custom_app_schemes_are_accepted_as_redirect_uris(client):
    app = await register(client, redirect_uris="org.joinmastodon.android.tusky://oauth")
    assert app["redirect_uris"] == ["org.joinmastodon.android.tusky://oauth"]


# The code flow

async def test_the_code_flow_with_pkce_gives_a_token_for_the_chosen_account(client, sessions, visitors):
    app = await register(client)
    verifier, challenge = pkce_pair()
    erika = await editor(visitors, sessions, "erika", ("stadt", "feuerwehr"))
    page = await erika.get(authorize_path(app, code_challenge=challenge, code_challenge_method="S256"))
    assert page.status == 200 and page.has("Tusky") and page.has("tusky.app")
    assert page.has("Feuerwehr (@feuerwehr)") and page.has("Stadt Teststadt (@stadt)")
    assert "write" in page.text and page.headers["Cache-Control"] == "private, no-store"
    assert "form-action 'self' https://app.example;" in page.headers["Content-Security-Policy"]
    answer = await erika.post("/oauth/authorize", hidden_fields(page.text) | {"actor": "feuerwehr",
                                                                              "decision": "approve"})
    assert answer.status == 302 and answer.location.startswith(f"{CALLBACK}?")
    params = redirect_params(answer.location)
    assert params["state"] == "xyz-42"
    response = await exchange(client, app, params["code"], code_verifier=verifier)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write" and isinstance(body["created_at"], int)
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(body["access_token"]))
    assert me.status == 200 and (await me.json())["acct"] == "feuerwehr"
    mine = await client.get("/api/v1/apps/verify_credentials", headers=bearer(body["access_token"]))
    assert (await mine.json())["name"] == "Tusky"
    async with sessions() as session:
        token = await session.scalar(select(ApiToken))
        grant = await session.scalar(select(OAuthCode))
    assert (token.user.name, token.actor.name, token.app.name, token.scopes) == ("erika", "feuerwehr", "Tusky",
                                                                                 "read write")
    assert body["access_token"] not in repr(vars(token)) and params["code"] not in repr(vars(grant))


async def test_plain_pkce_and_a_flow_without_pkce_work_too(client, sessions, visitors):
    app = await register(client)
    verifier, challenge = pkce_pair("plain")
    code = await code_for(visitors, sessions, client, app, code_challenge=challenge, code_challenge_method="plain")
    assert (await exchange(client, app, code, code_verifier=verifier)).status == 200
    code = await code_for(visitors, sessions, client, app, name="hans")
    assert (await exchange(client, app, code)).status == 200


async def test_the_out_of_band_uri_shows_the_code(client, sessions, visitors):
    app = await register(client)
    erika = await editor(visitors, sessions, "erika")
    page = await consent(erika, app, redirect_uri=OOB)
    assert page.status == 200 and page.headers["Cache-Control"] == "private, no-store"
    code = hidden_or_readonly_code(page.text)
    assert (await exchange(client, app, code, redirect_uri=OOB)).status == 200


def hidden_or_readonly_code(html: str) -> str:
    start = html.index('id="code" value="') + len('id="code" value="')
    return html[start:html.index('"', start)]


async def test_the_admin_sees_the_apps_token_and_can_revoke_it(client, sessions, visitors):
    app = await register(client, client_name="Ivory")
    token = await token_for(visitors, sessions, client, app)
    admin = await signed_in(visitors(), sessions, await admin_ready(sessions))
    page = await admin.get("/admin/tokens")
    assert page.has("Ivory") and page.has("erika")
    async with sessions() as session:
        token_id = (await session.scalar(select(ApiToken))).id
    assert (await admin.post(f"/admin/tokens/{token_id}/revoke")).status == 303
    response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert response.status == 401 and await response.json() == {"error": "The access token was revoked"}


# Sign-in first, CSRF, who may consent

async def test_a_visitor_who_is_not_signed_in_signs_in_first_and_comes_back(client, sessions, visitors):
    app = await register(client)
    _, password = await make_user(sessions, "erika")
    browser = visitors()
    page = await browser.get(authorize_path(app))
    assert page.status == 303 and page.location.startswith("/signin?next=/oauth/authorize")
    signin = await browser.get(page.location)
    remembered = unescape(re.search(r'name="next" value="([^"]*)"', signin.text).group(1))
    assert redirect_params(remembered) == redirect_params(authorize_path(app))
    page = await sign_in(browser, "erika", password, next_path=remembered)
    assert page.status == 303 and page.location == remembered
    page = await browser.get(page.location)
    assert page.status == 200 and page.has("Tusky")


async def test_the_consent_form_needs_its_csrf_token(client, sessions, visitors):
    app = await register(client)
    erika = await editor(visitors, sessions, "erika")
    page = await erika.get(authorize_path(app))
    fields = {k: v for k, v in hidden_fields(page.text).items() if k != "csrf"}
    answer = await erika.post("/oauth/authorize", fields | {"actor": "stadt", "decision": "approve"}, csrf=False)
    assert answer.status == 403
    async with sessions() as session:
        assert await session.scalar(select(OAuthCode)) is None


async def test_an_account_the_editor_may_not_use_is_refused_on_the_form(client, sessions, visitors):
    app = await register(client)
    erika = await editor(visitors, sessions, "erika", ("stadt",))
    page = await consent(erika, app, actor="feuerwehr")
    assert page.status == 422 and page.has("Choose one of the accounts you may post as.")
    assert "@feuerwehr" not in page.text
    async with sessions() as session:
        assert await session.scalar(select(OAuthCode)) is None


async def test_a_data_protection_officer_cannot_give_apps_access(client, sessions, visitors):
    app = await register(client)
    dpo_id, _ = await make_user(sessions, "dora", "dpo", actors=())
    dora = await signed_in(visitors(), sessions, dpo_id)
    assert (await dora.get(authorize_path(app))).status == 403


async def test_the_consent_page_speaks_german_when_asked(client, sessions, visitors):
    app = await register(client)
    erika = await editor(visitors, sessions, "erika")
    page = await erika.get(authorize_path(app, lang="de"))
    assert page.has("Darf „Tusky“ für ein Konto handeln?") and page.has("Erlauben") and page.has("Ablehnen")
    assert not page.has("Allow")


# Refusals at /oauth/authorize

async def test_an_unknown_client_or_a_foreign_redirect_uri_is_shown_not_redirected(client, sessions, visitors):
    app = await register(client)
    erika = await editor(visitors, sessions, "erika")
    page = await erika.get(authorize_path({"client_id": "unbekannt"}))
    assert page.status == 400 and page.has("This app is not registered on this server.")
    page = await erika.get(authorize_path(app, redirect_uri="https://evil.example/callback"))
    assert page.status == 400 and page.has("did not register") and not page.location
    page = await erika.get(authorize_path(app, redirect_uri=""))
    assert page.status == 400


@pytest.mark.parametrize("extra, error", [
    ({"scope": "read follow"}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"code_challenge": "zu-kurz"}, "invalid_request"),
    ({"code_challenge": "a" * 43, "code_challenge_method": "S512"}, "invalid_request"),
])
async def test_other_bad_requests_go_back_to_the_app_with_the_error_and_state(client, sessions, visitors, extra,
                                                                             error):
    app = await register(client)
    erika = await editor(visitors, sessions, "erika")
    page = await erika.get(authorize_path(app, **extra))
    assert page.status == 302
    params = redirect_params(page.location)
    assert params["error"] == error and params["state"] == "xyz-42" and params["error_description"]


async def test_denying_sends_access_denied_and_issues_no_code(client, sessions, visitors):
    app = await register(client)
    erika = await editor(visitors, sessions, "erika")
    page = await consent(erika, app, decision="deny")
    assert page.status == 302 and redirect_params(page.location) == {
        "error": "access_denied", "error_description": "The resource owner or authorization server denied the request.",
        "state": "xyz-42"}
    async with sessions() as session:
        assert await session.scalar(select(OAuthCode)) is None


# Refusals at /oauth/token

async def test_a_code_is_single_use_and_a_replay_revokes_its_token(client, sessions, visitors):
    app = await register(client)
    code = await code_for(visitors, sessions, client, app)
    first = await exchange(client, app, code)
    token = (await first.json())["access_token"]
    assert await error_of(await exchange(client, app, code)) == (400, "invalid_grant")
    response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert response.status == 401


async def test_an_expired_code_is_an_invalid_grant(client, sessions, visitors):
    app = await register(client)
    code = await code_for(visitors, sessions, client, app)
    async with sessions.begin() as session:
        await session.execute(update(OAuthCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await error_of(await exchange(client, app, code)) == (400, "invalid_grant")


async def test_a_code_lives_ten_minutes(client, sessions, visitors):
    app = await register(client)
    await code_for(visitors, sessions, client, app)
    async with sessions() as session:
        grant = await session.scalar(select(OAuthCode))
    assert grant.expires_at - grant.created_at == timedelta(minutes=10)


async def test_pkce_verifier_mistakes(client, sessions, visitors):
    app = await register(client)
    verifier, challenge = pkce_pair()
    code = await code_for(visitors, sessions, client, app, code_challenge=challenge, code_challenge_method="S256")
    assert await error_of(await exchange(client, app, code)) == (400, "invalid_request")  # verifier missing
    assert await error_of(await exchange(client, app, code, code_verifier=pkce_pair()[0])) == (400, "invalid_grant")
    assert await error_of(await exchange(client, app, code, code_verifier="kurz")) == (400, "invalid_grant")
    assert (await exchange(client, app, code, code_verifier=verifier)).status == 200  # unused until it matched


async def test_token_request_mistakes(client, sessions, visitors):
    app = await register(client)
    other = await register(client, client_name="Ivory")
    code = await code_for(visitors, sessions, client, app)
    cases = [
        (exchange(client, app, code, client_id="unbekannt"), (401, "invalid_client")),
        (exchange(client, app, code, client_secret="falsch"), (401, "invalid_client")),
        (exchange(client, app, code, client_secret=None), (401, "invalid_client")),
        (exchange(client, other, code), (400, "invalid_grant")),
        (exchange(client, app, code, redirect_uri=OOB), (400, "invalid_grant")),
        (exchange(client, app, code, redirect_uri=None), (400, "invalid_request")),
        (exchange(client, app, None), (400, "invalid_request")),
        (exchange(client, app, "erfunden"), (400, "invalid_grant")),
        (exchange(client, app, code, grant_type="password"), (400, "unsupported_grant_type")),
        (exchange(client, app, code, grant_type="refresh_token"), (400, "unsupported_grant_type")),
        (exchange(client, app, code, grant_type=None), (400, "invalid_request")),
    ]
    for call, expected in cases:
        response = await call
        assert await error_of(response) == expected
        if expected[1] == "invalid_client":
            assert 'error="invalid_client"' in response.headers["WWW-Authenticate"]
    assert (await exchange(client, app, code)).status == 200  # none of the mistakes used the code up


async def test_a_broken_json_body_is_an_invalid_request(client):
    response = await client.post("/oauth/token", data="{nicht json", headers={"Content-Type": "application/json"})
    assert await error_of(response) == (400, "invalid_request")


async def test_the_client_may_authenticate_with_http_basic(client, sessions, visitors):
    app = await register(client)
    code = await code_for(visitors, sessions, client, app)
    basic = base64.b64encode(f'{app["client_id"]}:{app["client_secret"]}'.encode()).decode()
    response = await client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                       "redirect_uri": CALLBACK},
                                 headers={"Authorization": f"Basic {basic}"})
    assert response.status == 200


async def test_a_disabled_user_cannot_redeem_a_code(client, sessions, visitors):
    app = await register(client)
    code = await code_for(visitors, sessions, client, app)
    async with sessions.begin() as session:
        await session.execute(update(User).where(User.name == "erika").values(disabled=True))
    assert await error_of(await exchange(client, app, code)) == (400, "invalid_grant")


# Client credentials and revocation

async def test_client_credentials_give_an_app_token_that_is_no_user(client):
    app = await register(client)
    data = {"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"]}
    response = await client.post("/oauth/token", data=data)
    assert response.status == 200
    body = await response.json()
    assert body["scope"] == "read"
    mine = await client.get("/api/v1/apps/verify_credentials", headers=bearer(body["access_token"]))
    assert mine.status == 200 and (await mine.json())["name"] == "Tusky"
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(body["access_token"]))
    assert me.status == 401
    response = await client.post("/oauth/token", data=data | {"scope": "read follow"})
    assert await error_of(response) == (400, "invalid_scope")


async def test_apps_verify_credentials_without_a_valid_token_is_401(client):
    response = await client.get("/api/v1/apps/verify_credentials", headers=bearer("falsch"))
    assert response.status == 401 and await response.json() == {"error": "The access token is invalid"}


async def test_revoking_tokens(client, sessions, visitors):
    app = await register(client)
    other = await register(client, client_name="Ivory")
    token = await token_for(visitors, sessions, client, app)
    credentials = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    response = await client.post("/oauth/revoke", data={"token": token, "client_id": other["client_id"],
                                                        "client_secret": other["client_secret"]})
    assert await error_of(response) == (403, "unauthorized_client")
    response = await client.post("/oauth/revoke", data={"token": token, "client_id": app["client_id"],
                                                        "client_secret": "falsch"})
    assert await error_of(response) == (403, "unauthorized_client")
    assert await error_of(await client.post("/oauth/revoke", data=credentials)) == (400, "invalid_request")
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status == 200  # still valid after the refused attempts
    for _ in range(2):  # idempotent, as RFC 7009 says
        response = await client.post("/oauth/revoke", data=credentials | {"token": token})
        assert response.status == 200 and await response.json() == {}
    response = await client.post("/oauth/revoke", data=credentials | {"token": "unbekannt"})
    assert response.status == 200
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status == 401 and await me.json() == {"error": "The access token was revoked"}


async def test_revoking_an_app_token(client):
    app = await register(client)
    credentials = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    body = await (await client.post("/oauth/token", data=credentials | {"grant_type": "client_credentials"})).json()
    assert (await client.post("/oauth/revoke", data=credentials | {"token": body["access_token"]})).status == 200
    mine = await client.get("/api/v1/apps/verify_credentials", headers=bearer(body["access_token"]))
    assert mine.status == 401


# Discovery and the trailing slash

async def test_the_authorization_server_metadata(client):
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status == 200
    body = await response.json()
    assert body["issuer"] == "http://stadt.test/"
    assert body["authorization_endpoint"] == "http://stadt.test/oauth/authorize"
    assert body["token_endpoint"] == "http://stadt.test/oauth/token"
    assert body["revocation_endpoint"] == "http://stadt.test/oauth/revoke"
    assert body["app_registration_endpoint"] == "http://stadt.test/api/v1/apps"
    assert body["code_challenge_methods_supported"] == ["S256", "plain"]
    assert body["grant_types_supported"] == ["authorization_code", "client_credentials"]
    assert {"read", "write", "write:media", "push", "profile"} <= set(body["scopes_supported"])
    assert body["response_types_supported"] == ["code"]
    assert "set-cookie" not in {k.lower() for k in response.headers}


@pytest.mark.parametrize("path", ["/api/v1/instance", "/api/v2/instance"])
async def test_the_instance_answers_with_a_trailing_slash_too(client, path):
    plain, slashed = await client.get(path), await client.get(f"{path}/")
    assert slashed.status == 200 and await slashed.json() == await plain.json()


async def test_unknown_oauth_paths_answer_json(client):
    response = await client.post("/oauth/unbekannt", data={})
    assert response.status == 404 and "error" in await response.json()


async def test_codes_expired_a_day_ago_are_deleted_when_new_ones_are_issued(client, sessions, visitors):
    app = await register(client)
    await code_for(visitors, sessions, client, app)
    async with sessions.begin() as session:
        await session.execute(update(OAuthCode).values(expires_at=utcnow() - timedelta(days=1, seconds=1)))
    await code_for(visitors, sessions, client, app, name="hans")
    async with sessions() as session:
        assert len((await session.scalars(select(OAuthCode))).all()) == 1


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/api/v1/apps",
                                  "/.well-known/oauth-authorization-server"])
async def test_apps_in_a_browser_may_call_the_sign_in_endpoints_from_their_origin(client, path):
    response = await client.options(path, headers={"Origin": "https://phanpy.social",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers


async def test_token_and_registration_answers_carry_the_cors_header(client):
    app = await register(client)
    refused = await client.post("/api/v1/apps", data={"client_name": ""})
    token = await client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                    "client_id": app["client_id"], "client_secret": "falsch"})
    answers = [await client.post("/api/v1/apps", data={"client_name": "Phanpy", "redirect_uris": OOB}), refused,
               token]
    assert [r.headers.get("Access-Control-Allow-Origin") for r in answers] == ["*", "*", "*"]
