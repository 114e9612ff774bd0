"""`POST /api/v1/apps` (an app registers itself) and `GET /api/v1/apps/verify_credentials`, as Mastodon."""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import SESSIONS
from bridge.auth.oauth import ADMIN_TOKEN_SCOPES, app_token, register_app
from bridge.convert.oauth import admin_token_application, application, credential_application
from bridge.web.api.request import authorize, read_params, validation_error
from bridge.web.oauth.endpoints import CORS, preflight

PRIVATE = CORS | {"Cache-Control": "private, no-store"}


async def create_app(request: web.Request) -> web.Response:
    params = await read_params(request)
    async with request.app[SESSIONS].begin() as session:
        registration = await register_app(session, params.get("client_name") or "", params.getlist("redirect_uris"),
                                          params.get("scopes"), params.get("website"))
    if not registration.ok:
        problem = validation_error(registration.description)
        problem.headers.update(CORS)
        raise problem
    return web.json_response(credential_application(registration.app, registration.client_secret), headers=PRIVATE)


async def verify_credentials(request: web.Request) -> web.Response:
    """Any valid token of the app: its own (client credentials) or a user's."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    async with request.app[SESSIONS]() as session:
        own = await app_token(session, secret.strip()) if scheme.lower() == "bearer" and secret.strip() else None
        if own is not None:
            return web.json_response(application(own.app), headers=PRIVATE)
        token = await authorize(request, session)
        await session.commit()  # keeps the token's last_used_at
    if token.app is not None:
        return web.json_response(application(token.app), headers=PRIVATE)
    return web.json_response(admin_token_application(token.label, ADMIN_TOKEN_SCOPES), headers=PRIVATE)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/apps", create_app)
    app.router.add_get("/api/v1/apps/verify_credentials", verify_credentials)
    for path in ("/api/v1/apps", "/api/v1/apps/verify_credentials"):
        app.router.add_route("OPTIONS", path, preflight)
