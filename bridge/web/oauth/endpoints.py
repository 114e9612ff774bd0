"""`POST /oauth/token`, `POST /oauth/revoke` and the RFC 8414 metadata: calls from apps, without cookies.

Errors have RFC 6749's shape `{"error": code, "error_description": text}` with Doorkeeper's status codes
(401 for `invalid_client`, 403 for a revocation the client may not make, 400 otherwise).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from aiohttp import web

from bridge.appkeys import CONFIG, SESSIONS
from bridge.auth.oauth import (
    CHALLENGE_METHODS, SCOPES, IssuedToken, OAuthError, OAuthResult, authenticate_client, client_credentials,
    exchange_code, missing, revoke,
)
from bridge.convert.oauth import GRANT_TYPES, authorization_server_metadata, token as token_entity
from bridge.web.api.request import Params, read_params

# Apps that run in a browser (Phanpy, Elk) call these from their own origin, without cookies: Mastodon
# allows any origin on them (config/initializers/cors.rb), credentials never.
CORS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = CORS | {"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Authorization, Content-Type", "Access-Control-Max-Age": "86400"}
NO_STORE = CORS | {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 section 5.1
STATUS = {OAuthError.INVALID_CLIENT: 401, OAuthError.UNAUTHORIZED_CLIENT: 403}


def oauth_error(result: OAuthResult) -> web.Response:
    headers = dict(NO_STORE)
    if result.error is OAuthError.INVALID_CLIENT:  # RFC 6749 section 5.2, as Doorkeeper words it
        headers["WWW-Authenticate"] = (f'Bearer realm="Stadtbote", error="{result.error}", '
                                       f'error_description="{result.description}"')
    return web.json_response({"error": str(result.error), "error_description": result.description},
                             status=STATUS.get(result.error, 400), headers=headers)


async def _params(request: web.Request) -> Params | web.Response:
    try:
        return await read_params(request)
    except web.HTTPBadRequest:  # an unreadable body is a malformed request in OAuth's words
        return oauth_error(OAuthResult(OAuthError.INVALID_REQUEST))


def client_of(request: web.Request, params: Params) -> tuple[str | None, str | None]:
    """client_secret_basic (RFC 6749 section 2.3.1: form-encoded, then Basic) or client_secret_post."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return params.get("client_id"), params.get("client_secret")
    try:
        pair = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, _, secret = pair.partition(":")
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


async def token(request: web.Request) -> web.Response:
    params = await _params(request)
    if isinstance(params, web.Response):
        return params
    grant_type = params.get("grant_type")
    if not grant_type:
        return oauth_error(missing("grant_type"))
    if grant_type not in GRANT_TYPES:
        return oauth_error(OAuthResult(OAuthError.UNSUPPORTED_GRANT_TYPE))
    client_id, client_secret = client_of(request, params)
    async with request.app[SESSIONS].begin() as session:
        app = await authenticate_client(session, client_id, client_secret)
        if app is None:
            issued = IssuedToken(OAuthResult(OAuthError.INVALID_CLIENT))
        elif grant_type == "authorization_code":
            issued = await exchange_code(session, app, params.get("code"), params.get("redirect_uri"),
                                         params.get("code_verifier"))
        else:
            issued = await client_credentials(session, app, params.get("scope"))
    if not issued.result.ok:
        return oauth_error(issued.result)
    return web.json_response(token_entity(issued.secret, issued.scope, issued.created_at), headers=NO_STORE)


async def revoke_token(request: web.Request) -> web.Response:
    params = await _params(request)
    if isinstance(params, web.Response):
        return params
    client_id, client_secret = client_of(request, params)
    async with request.app[SESSIONS].begin() as session:
        app = await authenticate_client(session, client_id, client_secret)
        if app is None:  # Doorkeeper refuses an unauthenticated revocation with 403, not 401
            result = OAuthResult(OAuthError.UNAUTHORIZED_CLIENT)
        elif not params.get("token"):
            result = missing("token")
        else:
            result = await revoke(session, app, params.get("token"))
    if not result.ok:
        return oauth_error(result)
    return web.json_response({}, headers=NO_STORE)


async def metadata(request: web.Request) -> web.Response:
    body = authorization_server_metadata(request.app[CONFIG].instance.base_url, SCOPES, CHALLENGE_METHODS)
    return web.json_response(body, headers=CORS | {"Cache-Control": "public, max-age=900"})


async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204, headers=PREFLIGHT)
