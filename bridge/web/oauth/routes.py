"""Registers the OAuth routes (the app registration itself lives with the API, `/api/v1/apps`)."""

from aiohttp import web

from bridge.web.oauth import authorize, endpoints


def setup(app: web.Application) -> None:
    app.router.add_get("/oauth/authorize", authorize.authorize_form)
    app.router.add_post("/oauth/authorize", authorize.authorize_decide)
    app.router.add_post("/oauth/token", endpoints.token)
    app.router.add_post("/oauth/revoke", endpoints.revoke_token)
    app.router.add_get("/.well-known/oauth-authorization-server", endpoints.metadata)
    for path in ("/oauth/token", "/oauth/revoke", "/.well-known/oauth-authorization-server"):
        app.router.add_route("OPTIONS", path, endpoints.preflight)
