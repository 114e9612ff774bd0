"""OAuth 2 for Mastodon apps (RFC 6749, PKCE RFC 7636), as Mastodon implements it with Doorkeeper.

Apps register themselves (`register_app`), a signed-in user grants one of them a code for one account
(`issue_code`), the app trades the code for a token (`exchange_code`) bound to that user and account, or
asks for a token of its own (`client_credentials`). Client secrets, codes and tokens are stored as
SHA-256 hashes only; the clear values exist once, in the answer that hands them out. No web code here:
callers turn an `OAuthError` into the HTTP answer.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.auth.tokens import digest, issue_token, revoke_token
from bridge.auth.users import may_use_actor
from bridge.store.db import utcnow
from bridge.store.models import Actor, ApiToken, OAuthApp, OAuthAppToken, OAuthCode, User

OOB = "urn:ietf:wg:oauth:2.0:oob"  # "show me the code" instead of a redirect
CODE_LIFETIME = timedelta(minutes=10)
STALE_CODES = timedelta(days=1)
DEFAULT_SCOPE = "read"
NAME_MAX, URI_MAX = 60, 2000
# The scopes Mastodon 4.3 knows (config/initializers/doorkeeper.rb), so that apps asking for any of them
# can register; what a token may then do is decided per endpoint.
SCOPES = (
    "read", "write", "follow", "push", "profile",
    "read:accounts", "read:blocks", "read:bookmarks", "read:favourites", "read:filters", "read:follows",
    "read:lists", "read:mutes", "read:notifications", "read:search", "read:statuses",
    "write:accounts", "write:blocks", "write:bookmarks", "write:conversations", "write:favourites",
    "write:filters", "write:follows", "write:lists", "write:media", "write:mutes", "write:notifications",
    "write:reports", "write:statuses",
    "admin:read", "admin:read:accounts", "admin:read:reports", "admin:read:domain_allows",
    "admin:read:domain_blocks", "admin:read:ip_blocks", "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks", "admin:write", "admin:write:accounts", "admin:write:reports",
    "admin:write:domain_allows", "admin:write:domain_blocks", "admin:write:ip_blocks",
    "admin:write:email_domain_blocks", "admin:write:canonical_email_blocks",
)
# Admin-made tokens carry no scopes: they may do what an editor's app with `read write` may do.
ADMIN_TOKEN_SCOPES = ("read", "write")
# Mastodon's deprecated `follow` grants these granular scopes (and nothing else).
FOLLOW_COVERS = ("read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes")


def scope_covers(granted: str | None, required: tuple[str, ...]) -> bool:
    """Whether a token's scopes allow one of `required` (alternatives, as Mastodon's `doorkeeper_authorize!`):
    a granular scope is allowed by itself or by its parent (`read` allows `read:statuses`)."""
    have = set(granted.split()) if granted is not None else set(ADMIN_TOKEN_SCOPES)
    if "follow" in have:
        have.update(FOLLOW_COVERS)
    return any(scope in have or scope.partition(":")[0] in have for scope in required)


CHALLENGE_METHODS = ("S256", "plain")
# RFC 7636 section 4.1/4.2: 43 to 128 unreserved characters, for the verifier and (so) the challenge.
PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
FORBIDDEN_SCHEMES = ("javascript", "data", "vbscript")  # as Mastodon's Doorkeeper configuration


class OAuthError(enum.StrEnum):
    """RFC 6749's error codes (sections 4.1.2.1 and 5.2), with Doorkeeper's invalid_redirect_uri."""

    INVALID_REQUEST = "invalid_request"
    INVALID_CLIENT = "invalid_client"
    INVALID_GRANT = "invalid_grant"
    UNAUTHORIZED_CLIENT = "unauthorized_client"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    UNSUPPORTED_RESPONSE_TYPE = "unsupported_response_type"
    INVALID_SCOPE = "invalid_scope"
    ACCESS_DENIED = "access_denied"
    INVALID_REDIRECT_URI = "invalid_redirect_uri"


# Doorkeeper's descriptions, which Mastodon sends as `error_description`.
OAUTH_ERROR_TEXT = {
    OAuthError.INVALID_REQUEST: "The request is missing a required parameter, includes an unsupported "
                                "parameter value, or is otherwise malformed.",
    OAuthError.INVALID_CLIENT: "Client authentication failed due to unknown client, no client authentication "
                               "included, or unsupported authentication method.",
    OAuthError.INVALID_GRANT: "The provided authorization grant is invalid, expired, revoked, does not match "
                              "the redirection URI used in the authorization request, or was issued to "
                              "another client.",
    OAuthError.UNAUTHORIZED_CLIENT: "You are not authorized to revoke this token",
    OAuthError.UNSUPPORTED_GRANT_TYPE: "The authorization grant type is not supported by the authorization "
                                       "server.",
    OAuthError.UNSUPPORTED_RESPONSE_TYPE: "The authorization server does not support this response type.",
    OAuthError.INVALID_SCOPE: "The requested scope is invalid, unknown, or malformed.",
    OAuthError.ACCESS_DENIED: "The resource owner or authorization server denied the request.",
    OAuthError.INVALID_REDIRECT_URI: "The requested redirect uri is malformed or doesn't match client "
                                     "redirect URI.",
}


@dataclass(frozen=True)
class OAuthResult:
    """An outcome: `error` None means success; `detail` replaces the standard description where Doorkeeper
    says more (a missing parameter)."""

    error: OAuthError | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def description(self) -> str:
        return self.detail or OAUTH_ERROR_TEXT[self.error]


def missing(parameter: str) -> OAuthResult:
    return OAuthResult(OAuthError.INVALID_REQUEST, f"Missing required parameter: {parameter}.")


class AppError(enum.StrEnum):
    NAME_BLANK = "name_blank"
    NAME_TOO_LONG = "name_too_long"
    REDIRECT_BLANK = "redirect_blank"
    REDIRECT_RELATIVE = "redirect_relative"
    REDIRECT_FRAGMENT = "redirect_fragment"
    REDIRECT_FORBIDDEN = "redirect_forbidden"
    REDIRECT_TOO_LONG = "redirect_too_long"
    WEBSITE_INVALID = "website_invalid"
    SCOPES_UNKNOWN = "scopes_unknown"


# Mastodon's validation messages (422 "Validation failed: …").
APP_ERROR_TEXT = {
    AppError.NAME_BLANK: "Name can't be blank",
    AppError.NAME_TOO_LONG: f"Name is too long (maximum is {NAME_MAX} characters)",
    AppError.REDIRECT_BLANK: "Redirect URI can't be blank",
    AppError.REDIRECT_RELATIVE: "Redirect URI must be an absolute URI.",
    AppError.REDIRECT_FRAGMENT: "Redirect URI cannot contain a fragment.",
    AppError.REDIRECT_FORBIDDEN: "Redirect URI is forbidden by the server.",
    AppError.REDIRECT_TOO_LONG: f"Redirect URI is too long (maximum is {URI_MAX} characters)",
    AppError.WEBSITE_INVALID: "Website is invalid",
    AppError.SCOPES_UNKNOWN: "Scopes doesn't match configured on the server.",
}


@dataclass(frozen=True)
class Registration:
    error: AppError | None = None
    app: OAuthApp | None = None
    client_secret: str | None = None  # the clear secret, only in the answer to the registration

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def description(self) -> str:
        return APP_ERROR_TEXT[self.error]


def parse_scopes(text: str | None) -> list[str]:
    """Space-separated (a `+` in a query string arrives as a space), without repeats, in the given order."""
    return list(dict.fromkeys((text or "").split()))


def redirect_problem(uri: str) -> AppError | None:
    """Doorkeeper's redirect URI rules: absolute, no fragment, no script schemes; custom app schemes and
    the out-of-band URN are fine; http is allowed (apps on a desktop listen on localhost)."""
    if uri == OOB:
        return None
    if len(uri) > URI_MAX:
        return AppError.REDIRECT_TOO_LONG
    try:
        parts = urlsplit(uri)
    except ValueError:
        return AppError.REDIRECT_RELATIVE
    if not parts.scheme:
        return AppError.REDIRECT_RELATIVE
    if parts.scheme.lower() in FORBIDDEN_SCHEMES:
        return AppError.REDIRECT_FORBIDDEN
    if parts.fragment or "#" in uri:
        return AppError.REDIRECT_FRAGMENT
    if parts.scheme.lower() in ("http", "https") and not parts.netloc:
        return AppError.REDIRECT_RELATIVE
    return None


def _app_problem(name: str, redirect_uris: list[str], scopes: list[str], website: str | None) -> AppError | None:
    if not name:
        return AppError.NAME_BLANK
    if len(name) > NAME_MAX:
        return AppError.NAME_TOO_LONG
    if not redirect_uris:
        return AppError.REDIRECT_BLANK
    for uri in redirect_uris:
        if problem := redirect_problem(uri):
            return problem
    if website and not _is_web_address(website):
        return AppError.WEBSITE_INVALID
    if any(scope not in SCOPES for scope in scopes):
        return AppError.SCOPES_UNKNOWN
    return None


def _is_web_address(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return len(text) <= URI_MAX and parts.scheme in ("http", "https") and bool(parts.netloc)


async def register_app(session: AsyncSession, name: str, redirect_uris: list[str], scopes: str | None,
                       website: str | None) -> Registration:
    """`redirect_uris` as sent (each may hold several URIs separated by white space, as Doorkeeper reads)."""
    uris = list(dict.fromkeys(uri for value in redirect_uris for uri in value.split()))
    wanted = parse_scopes(scopes) or [DEFAULT_SCOPE]
    name, website = name.strip(), (website or "").strip() or None
    if problem := _app_problem(name, uris, wanted, website):
        return Registration(problem)
    secret = secrets.token_urlsafe(32)
    app = OAuthApp(name=name, website=website, redirect_uris=uris, scopes=" ".join(wanted),
                   client_id=secrets.token_urlsafe(32), secret_sha256=digest(secret))
    session.add(app)
    await session.flush()
    return Registration(app=app, client_secret=secret)


async def find_client(session: AsyncSession, client_id: str | None) -> OAuthApp | None:
    if not client_id:
        return None
    return await session.scalar(select(OAuthApp).where(OAuthApp.client_id == client_id))


async def authenticate_client(session: AsyncSession, client_id: str | None,
                              client_secret: str | None) -> OAuthApp | None:
    """The app whose id and secret these are; the secret compared in constant time."""
    app = await find_client(session, client_id)
    if app is None or not client_secret:
        return None
    return app if hmac.compare_digest(app.secret_sha256, digest(client_secret)) else None


@dataclass(frozen=True)
class AuthorizationRequest:
    """What an app asked `/oauth/authorize` for, checked; carried through the consent form unchanged."""

    app: OAuthApp
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)


@dataclass(frozen=True)
class Checked:
    """The outcome of checking an authorization request. `redirectable` says whether an error may be sent
    to the redirect URI (RFC 6749 section 4.1.2.1: never when the client or the URI is in doubt)."""

    result: OAuthResult
    request: AuthorizationRequest | None = None
    redirectable: bool = False


async def check_authorization(session: AsyncSession, params: dict[str, str]) -> Checked:
    app = await find_client(session, params.get("client_id"))
    if app is None:
        return Checked(OAuthResult(OAuthError.INVALID_CLIENT))
    redirect_uri = params.get("redirect_uri") or ""
    if not redirect_uri:
        return Checked(missing("redirect_uri"))
    if redirect_uri not in app.redirect_uris:
        return Checked(OAuthResult(OAuthError.INVALID_REDIRECT_URI))
    partial = AuthorizationRequest(app, redirect_uri, (), params.get("state") or None)
    result, request = _check_parameters(app, partial, params)
    return Checked(result, request, redirectable=not result.ok)


def _check_parameters(app: OAuthApp, partial: AuthorizationRequest,
                      params: dict[str, str]) -> tuple[OAuthResult, AuthorizationRequest]:
    response_type = params.get("response_type") or ""
    if not response_type:
        return missing("response_type"), partial
    if response_type != "code":
        return OAuthResult(OAuthError.UNSUPPORTED_RESPONSE_TYPE), partial
    scopes = parse_scopes(params.get("scope")) or [DEFAULT_SCOPE]
    if any(scope not in app.scopes.split() for scope in scopes):
        return OAuthResult(OAuthError.INVALID_SCOPE), partial
    challenge = params.get("code_challenge") or None
    method = (params.get("code_challenge_method") or "plain") if challenge else None
    if challenge and method not in CHALLENGE_METHODS:
        return OAuthResult(OAuthError.INVALID_REQUEST, "Invalid code_challenge_method."), partial
    if challenge and not PKCE_VALUE.match(challenge):
        return OAuthResult(OAuthError.INVALID_REQUEST, "Invalid code_challenge."), partial
    return OAuthResult(), AuthorizationRequest(app, partial.redirect_uri, tuple(scopes), partial.state,
                                               challenge, method)


async def issue_code(session: AsyncSession, request: AuthorizationRequest, user: User, actor: Actor) -> str:
    """A code for `user` acting as `actor`; the caller has checked that the user may (`may_use_actor`)."""
    code = secrets.token_urlsafe(32)
    now = utcnow()
    # Old codes go when new ones come: a day after expiry no replay of them needs recognising any more.
    await session.execute(delete(OAuthCode).where(OAuthCode.expires_at < now - STALE_CODES))
    session.add(OAuthCode(code_sha256=digest(code), app_id=request.app.id, user_id=user.id, actor_id=actor.id,
                          redirect_uri=request.redirect_uri, scopes=request.scope,
                          code_challenge=request.code_challenge, code_challenge_method=request.code_challenge_method,
                          created_at=now, expires_at=now + CODE_LIFETIME))
    await session.flush()
    return code


@dataclass(frozen=True)
class IssuedToken:
    result: OAuthResult = field(default_factory=OAuthResult)
    secret: str | None = None  # the clear access token, only in the token answer
    scope: str = ""
    created_at: datetime | None = None


def pkce_matches(method: str, challenge: str, verifier: str) -> bool:
    """RFC 7636 section 4.6."""
    if not PKCE_VALUE.match(verifier):
        return False
    if method == "S256":
        hashed = hashlib.sha256(verifier.encode("ascii")).digest()
        verifier = base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(verifier, challenge)


async def exchange_code(session: AsyncSession, app: OAuthApp, code: str | None, redirect_uri: str | None,
                        code_verifier: str | None) -> IssuedToken:
    """Trades a code for a token, once. A code shown a second time also revokes the token it bought."""
    if not code:
        return IssuedToken(missing("code"))
    grant = await session.scalar(select(OAuthCode).where(OAuthCode.code_sha256 == digest(code)))
    if grant is None or grant.app_id != app.id:
        return IssuedToken(OAuthResult(OAuthError.INVALID_GRANT))
    if grant.used_at is not None:
        if grant.token_id is not None:
            await revoke_token(session, grant.token_id)
        return IssuedToken(OAuthResult(OAuthError.INVALID_GRANT))
    if grant.code_challenge and not code_verifier:
        return IssuedToken(missing("code_verifier"))
    if not redirect_uri:
        return IssuedToken(missing("redirect_uri"))
    if not _grant_usable(grant, redirect_uri, code_verifier):
        return IssuedToken(OAuthResult(OAuthError.INVALID_GRANT))
    return await _redeem(session, app, grant)


def _grant_usable(grant: OAuthCode, redirect_uri: str, code_verifier: str | None) -> bool:
    if grant.expires_at <= utcnow() or redirect_uri != grant.redirect_uri:
        return False
    if grant.code_challenge:
        return pkce_matches(grant.code_challenge_method or "plain", grant.code_challenge, code_verifier or "")
    return True


async def _redeem(session: AsyncSession, app: OAuthApp, grant: OAuthCode) -> IssuedToken:
    # Claimed with a conditional update, so two requests racing with one code cannot both win.
    claimed = await session.execute(update(OAuthCode).where(OAuthCode.id == grant.id, OAuthCode.used_at.is_(None))
                                    .values(used_at=utcnow()))
    user, actor = await session.get(User, grant.user_id), await session.get(Actor, grant.actor_id)
    if claimed.rowcount != 1 or user is None or actor is None or not may_use_actor(user, actor.name):
        return IssuedToken(OAuthResult(OAuthError.INVALID_GRANT))
    issued = await issue_token(session, user, actor, label=app.name[:100], app=app, scopes=grant.scopes, by=user)
    grant.token_id = issued.token.id
    return IssuedToken(secret=issued.secret, scope=grant.scopes, created_at=issued.token.created_at)


async def client_credentials(session: AsyncSession, app: OAuthApp, scope: str | None) -> IssuedToken:
    """A token for the app itself (Mastodon's "app token"): no user, no account."""
    scopes = parse_scopes(scope) or [DEFAULT_SCOPE]
    if any(s not in app.scopes.split() for s in scopes):
        return IssuedToken(OAuthResult(OAuthError.INVALID_SCOPE))
    secret = secrets.token_urlsafe(32)
    token = OAuthAppToken(token_sha256=digest(secret), app_id=app.id, scopes=" ".join(scopes), created_at=utcnow())
    session.add(token)
    await session.flush()
    return IssuedToken(secret=secret, scope=token.scopes, created_at=token.created_at)


async def revoke(session: AsyncSession, app: OAuthApp, token: str | None) -> OAuthResult:
    """RFC 7009 as Doorkeeper does it: an unknown token is fine (nothing to do), another app's is refused."""
    hashed = digest(token or "")
    user_token = await session.scalar(select(ApiToken).where(ApiToken.token_sha256 == hashed))
    app_token = await session.scalar(select(OAuthAppToken).where(OAuthAppToken.token_sha256 == hashed))
    found = user_token or app_token
    if found is None:
        return OAuthResult()
    if found.app_id != app.id:
        return OAuthResult(OAuthError.UNAUTHORIZED_CLIENT)
    if user_token is not None:
        await revoke_token(session, user_token.id)
    elif app_token.revoked_at is None:
        app_token.revoked_at = utcnow()
    return OAuthResult()


async def app_token(session: AsyncSession, secret: str) -> OAuthAppToken | None:
    """A client-credentials token that is still valid."""
    token = await session.scalar(select(OAuthAppToken).where(OAuthAppToken.token_sha256 == digest(secret)))
    return token if token is not None and token.revoked_at is None else None
