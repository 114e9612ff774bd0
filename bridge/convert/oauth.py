"""Mastodon's OAuth shapes: the Application and CredentialApplication entities, the Token entity and the
RFC 8414 authorization server metadata as Mastodon 4.3 serves it."""

from __future__ import annotations

from datetime import datetime

from bridge.store.models import OAuthApp

OOB = "urn:ietf:wg:oauth:2.0:oob"

# This server has no Web Push, so no VAPID key; an empty string keeps apps that read the (deprecated)
# field as a string working, and `push` requests are refused by the push endpoints, not at sign-in.
VAPID_KEY = ""
GRANT_TYPES = ("authorization_code", "client_credentials")


def application(app: OAuthApp) -> dict:
    """The Application entity (`GET /api/v1/apps/verify_credentials`)."""
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        # Deprecated since 4.3 but still sent: several URIs joined by line breaks, as Doorkeeper stores them.
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
        "vapid_key": VAPID_KEY,
    }


def admin_token_application(label: str, scopes: tuple[str, ...]) -> dict:
    """What a token made by an admin (no app behind it) shows as its app: all of an editor's rights."""
    return {"id": "0", "name": label or "API", "website": None, "scopes": list(scopes),
            "redirect_uri": OOB, "redirect_uris": [OOB], "vapid_key": VAPID_KEY}


def credential_application(app: OAuthApp, client_secret: str) -> dict:
    """The CredentialApplication entity, the answer to `POST /api/v1/apps` (the only time the secret is shown)."""
    return application(app) | {"client_id": app.client_id, "client_secret": client_secret,
                               "client_secret_expires_at": 0}


def token(secret: str, scope: str, created_at: datetime) -> dict:
    return {"access_token": secret, "token_type": "Bearer", "scope": scope, "created_at": int(created_at.timestamp())}


def authorization_server_metadata(base_url: str, scopes: tuple[str, ...], challenge_methods: tuple[str, ...]) -> dict:
    """RFC 8414, with Mastodon's non-standard `app_registration_endpoint`."""
    base = base_url.rstrip("/")
    return {
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "scopes_supported": list(scopes),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": list(challenge_methods),
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
