"""Helpers for the OAuth tests: an app as Mastodon apps register, PKCE pairs, the consent form walked through."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

OOB = "urn:ietf:wg:oauth:2.0:oob"
CALLBACK = "https://app.example/callback"
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


async def register(client, **fields) -> dict:
    body = {"client_name": "Tusky", "redirect_uris": f"{CALLBACK}\n{OOB}", "scopes": "read write push",
            "website": "https://tusky.app"} | fields
    response = await client.post("/api/v1/apps", data=body)
    assert response.status == 200, await response.text()
    return await response.json()


def pkce_pair(method: str = "S256") -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, verifier
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_path(app: dict, redirect_uri: str = CALLBACK, scope: str = "read write", state: str = "xyz-42",
                   **extra) -> str:
    query = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": redirect_uri,
             "scope": scope, "state": state} | extra
    return "/oauth/authorize?" + urlencode({k: v for k, v in query.items() if v is not None})


def hidden_fields(html: str) -> dict:
    return {name: unescape(value) for name, value in HIDDEN.findall(html)}


async def consent(visitor, app: dict, *, actor: str = "stadt", decision: str = "approve", **authorize):
    """Opens the consent page as `visitor` (signed in) and answers it; returns the answer page."""
    page = await visitor.get(authorize_path(app, **authorize))
    assert page.status == 200, (page.status, page.location, page.text[:500])
    return await visitor.post("/oauth/authorize", hidden_fields(page.text) | {"actor": actor, "decision": decision})


def redirect_params(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def exchange(client, app: dict, code: str, redirect_uri: str = CALLBACK, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": app["client_id"], "client_secret": app["client_secret"]} | extra
    return await client.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})
