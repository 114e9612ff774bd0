"""Platform accounts connected in the browser (issue 19): what each kind asks for, connecting with credentials
typed once or through the platform's OAuth sign-in, and disconnecting. Credentials are sealed at once
(`bridge.runtime.credentials`) and never shown, logged or put in an audit entry; the audit and the transfer log
say which account of which recipient was connected, by whom."""

from __future__ import annotations

import base64
import enum
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.guard import GuardedSession
from bridge.auth.users import user_ref
from bridge.platforms.connectors.http import call
from bridge.platforms.connectors.meta_graph import origin
from bridge.config.model import Config
from bridge.runtime.credentials import load_or_create_key, seal, unseal
from bridge.store.db import utcnow
from bridge.store.models import User
from bridge.store.platforms import PlatformAccount, PlatformConnection, PlatformOAuthState
from consent.audit import Action, Event, record

PLATFORM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
OAUTH_LIFETIME = timedelta(minutes=10)
CALLBACK_PATH = "/admin/platforms/oauth/callback"


@dataclass(frozen=True)
class Kind:
    """What the connect form asks for one kind of platform, and where its OAuth sign-in lives."""

    api_base: str
    recipient: str
    country: str
    mechanism: str
    settings: tuple[str, ...] = ()  # plain values, shown again (ids, handles)
    secrets: tuple[str, ...] = ()  # sealed, never shown again
    required: tuple[str, ...] = ()  # needed when credentials are typed in
    authorize_url: str = ""  # the platform's OAuth 2 consent page; empty: no OAuth sign-in
    token_path: str = ""  # appended to api_base (or to oauth_base, see `token_url`)
    scopes: str = ""
    oauth_needs: tuple[str, ...] = ()  # typed before the OAuth sign-in (an app registered at the platform)
    oauth_api_base: str = ""  # where a signed-in token works, when not at the default `api_base`
    token_base: str = ""  # where the token endpoint lives when not at `api_base` (an `oauth_base` typed wins)
    offline: bool = False  # Google: ask for a refresh token (access_type=offline) and refuse a sign-in without one


META = ("Meta Platforms Ireland Ltd.", "IE",
        "none (EU); onward transfers by Meta under the EU-US Data Privacy Framework")
KINDS: dict[str, Kind] = {
    "mastodon": Kind("https://mastodon.social", "Mastodon gGmbH", "DE", "none (EU)", secrets=("access_token",),
                     required=("access_token",), authorize_url="{api_base}/oauth/authorize", token_path="/oauth/token",
                     scopes="write:statuses write:media read:statuses read:accounts"),
    "bluesky": Kind("https://bsky.social", "Bluesky Social PBC", "US", "EU-US Data Privacy Framework",
                    settings=("handle", "appview", "video_service"), secrets=("app_password",), required=("handle", "app_password")),
    "telegram": Kind("https://api.telegram.org", "Telegram FZ-LLC", "AE", "to be assessed (no adequacy decision)",
                     settings=("chat_id", "discussion_chat_id"), secrets=("bot_token",),
                     required=("chat_id", "bot_token")),
    "facebook": Kind("https://graph.facebook.com/v25.0", *META, settings=("page_id",), secrets=("access_token",),
                     required=("page_id", "access_token"), authorize_url="https://www.facebook.com/v25.0/dialog/oauth",
                     token_path="/oauth/access_token", scopes="pages_manage_posts,pages_read_engagement",
                     oauth_needs=("page_id", "client_id", "client_secret")),
    # Signing in goes through Facebook Login for Business: the Page linked to the Instagram professional account
    # answers its id and the Page token, which works at graph.facebook.com (not at graph.instagram.com).
    "instagram": Kind("https://graph.instagram.com/v25.0", *META, settings=("ig_user_id",), secrets=("access_token",),
                      required=("ig_user_id", "access_token"),
                      authorize_url="https://www.facebook.com/v25.0/dialog/oauth", token_path="/oauth/access_token",
                      scopes="instagram_basic,instagram_content_publish,instagram_manage_comments,pages_show_list,"
                             "pages_read_engagement",
                      oauth_needs=("client_id", "client_secret"),
                      oauth_api_base="https://graph.facebook.com/v25.0"),
    "threads": Kind("https://graph.threads.net/v1.0", *META, settings=("threads_user_id",),
                    secrets=("access_token",), required=("threads_user_id", "access_token"),
                    authorize_url="https://threads.com/oauth/authorize", token_path="/oauth/access_token",
                    scopes="threads_basic,threads_content_publish,threads_manage_replies",
                    oauth_needs=("client_id", "client_secret")),
    "linkedin": Kind("https://api.linkedin.com", "LinkedIn Ireland Unlimited Company", "IE",
                     "none (EU); onward transfers by LinkedIn under the EU-US Data Privacy Framework",
                     settings=("organization_id", "linkedin_version", "oauth_base"),
                     secrets=("access_token", "refresh_token", "client_id", "client_secret"),
                     required=("organization_id", "access_token"),
                     authorize_url="https://www.linkedin.com/oauth/v2/authorization",
                     token_path="/oauth/v2/accessToken",
                     scopes="w_organization_social r_organization_social",
                     oauth_needs=("organization_id", "client_id", "client_secret")),
    "x": Kind("https://api.x.com", "X Corp.", "US", "EU-US Data Privacy Framework", settings=("read_replies",),
              secrets=("client_id", "client_secret", "access_token", "refresh_token"),
              required=("client_id", "access_token", "refresh_token"),
              authorize_url="https://x.com/i/oauth2/authorize", token_path="/2/oauth2/token",
              scopes="tweet.read tweet.write users.read media.write offline.access", oauth_needs=("client_id",)),
    # No publishing API: nothing to sign in with; posts wait for an editor to post them by hand (manual route).
    "xing": Kind("https://www.xing.com", "New Work SE", "DE", "none (EU)"),
    # Google's web-server flow: the app (client id and secret) is registered in the Google Cloud console; the
    # access token lives an hour and is refreshed with the refresh token, given only with access_type=offline.
    "youtube": Kind("https://www.googleapis.com", "Google Ireland Limited", "IE",
                    "none (EU); onward transfers by Google under the EU-US Data Privacy Framework",
                    settings=("privacy_status", "oauth_base", "upload_base"),
                    secrets=("client_id", "client_secret", "refresh_token", "access_token"),
                    required=("client_id", "client_secret", "refresh_token"),
                    authorize_url="https://accounts.google.com/o/oauth2/v2/auth", token_path="/token",
                    scopes="https://www.googleapis.com/auth/youtube.upload "
                           "https://www.googleapis.com/auth/youtube.force-ssl",
                    oauth_needs=("client_id", "client_secret"), token_base="https://oauth2.googleapis.com",
                    offline=True),
}

# Product names, the same in every language.
TITLES = {"mastodon": "Mastodon", "bluesky": "Bluesky", "telegram": "Telegram", "facebook": "Facebook",
          "instagram": "Instagram", "threads": "Threads", "linkedin": "LinkedIn", "x": "X", "youtube": "YouTube",
          "xing": "XING"}


class ConnectReason(enum.StrEnum):
    OK = "ok"
    ID_INVALID = "id_invalid"
    ID_TAKEN = "id_taken"
    KIND_UNKNOWN = "kind_unknown"
    ADDRESS_INVALID = "address_invalid"
    VALUE_MISSING = "value_missing"
    NO_OAUTH = "no_oauth"
    NOT_FOUND = "not_found"
    FROM_FILE = "from_file"
    OAUTH_EXPIRED = "oauth_expired"
    OAUTH_REFUSED = "oauth_refused"

    @property
    def description(self) -> str:
        return CONNECT_TEXT[self]


CONNECT_TEXT = {
    ConnectReason.OK: "done",
    ConnectReason.ID_INVALID: "use 1 to 64 lowercase letters, digits, - or _",
    ConnectReason.ID_TAKEN: "a platform account with this id exists already",
    ConnectReason.KIND_UNKNOWN: "choose a platform",
    ConnectReason.ADDRESS_INVALID: "the address must start with https:// or http://",
    ConnectReason.VALUE_MISSING: "this value is needed",
    ConnectReason.NO_OAUTH: "this platform has no sign-in to connect with; enter the credentials",
    ConnectReason.NOT_FOUND: "no such platform account",
    ConnectReason.FROM_FILE: "this account is set in the configuration file; remove it there",
    ConnectReason.OAUTH_EXPIRED: "the sign-in at the platform took too long or was used already; start again",
    ConnectReason.OAUTH_REFUSED: "the platform did not confirm the sign-in",
}


@dataclass(frozen=True)
class ConnectForm:
    id: str = ""
    kind: str = ""
    api_base: str = ""
    recipient: str = ""
    country: str = ""
    mechanism: str = ""
    values: dict[str, str] = field(default_factory=dict)  # settings and secrets as typed (secrets never shown)


@dataclass(frozen=True)
class ConnectResult:
    reason: ConnectReason
    problems: dict[str, ConnectReason] = field(default_factory=dict)
    redirect: str = ""  # the platform's consent page, for an OAuth sign-in

    @property
    def ok(self) -> bool:
        return self.reason is ConnectReason.OK


def _problems(config: Config, form: ConnectForm, needed: tuple[str, ...]) -> dict[str, ConnectReason]:
    problems: dict[str, ConnectReason] = {}
    if not PLATFORM_ID.match(form.id):
        problems["id"] = ConnectReason.ID_INVALID
    elif any(p.id == form.id for p in config.platforms):
        problems["id"] = ConnectReason.ID_TAKEN
    if form.kind not in KINDS:
        problems["kind"] = ConnectReason.KIND_UNKNOWN
        return problems
    if not form.api_base.startswith(("https://", "http://")):
        problems["api_base"] = ConnectReason.ADDRESS_INVALID
    for name in ("recipient", "country", "mechanism") + needed:
        if not (form.values.get(name) if name in needed else getattr(form, name)):
            problems[name] = ConnectReason.VALUE_MISSING
    return problems


def _result(problems: dict[str, ConnectReason]) -> ConnectResult:
    return ConnectResult(next(iter(problems.values())), problems)


async def connect(session: AsyncSession, config: Config, form: ConnectForm, by: User) -> ConnectResult:
    """Connects with credentials typed in; in the caller's transaction."""
    problems = _problems(config, form, KINDS[form.kind].required if form.kind in KINDS else ())
    if problems or await session.get(PlatformConnection, form.id) is not None:
        return _result(problems or {"id": ConnectReason.ID_TAKEN})
    await _store(session, config, form, _credentials(form), by, via="form")
    return ConnectResult(ConnectReason.OK)


def _credentials(form: ConnectForm) -> dict:
    kind = KINDS[form.kind]
    values = {k: v for k, v in form.values.items() if k in kind.settings + kind.secrets and v}
    if "read_replies" in values:
        values["read_replies"] = values["read_replies"] == "on"
    return values


async def _store(session: AsyncSession, config: Config, form: ConnectForm, credentials: dict, by_role: User | tuple,
                 via: str) -> None:
    role, ref = (by_role.role, user_ref(by_role)) if isinstance(by_role, User) else by_role
    key = load_or_create_key(config.instance.data_dir)
    now = utcnow()
    session.add(PlatformConnection(id=form.id, kind=form.kind, api_base=form.api_base.rstrip("/"),
                                   recipient=form.recipient, country=form.country, transfer_mechanism=form.mechanism,
                                   sealed_credentials=seal(key, credentials), version=1, created_at=now,
                                   updated_at=now))
    details = {"platform": form.id, "kind": form.kind, "recipient": form.recipient, "country": form.country,
               "mechanism": form.mechanism, "via": via, "fields": sorted(credentials)}  # names only, never values
    await record(session, Event(Action.PLATFORM_CONNECTED, role, ref, subject_ref=f"platform:{form.id}",
                                details=details))
    # The credentials (and, from now on, the posts mirrored) leave for this recipient: the transfer log says so.
    await record(session, Event(Action.PLATFORM_TRANSFER, role, ref, subject_ref=f"platform:{form.id}",
                                purpose="public_relations", details={**details, "action": "connect"}))


async def disconnect(session: AsyncSession, config: Config, platform_id: str, by: User) -> ConnectResult:
    """Removes the connection and its cached state; its sealed credentials are gone with the row."""
    if any(p.id == platform_id for p in config.file_platforms):
        return ConnectResult(ConnectReason.FROM_FILE)
    row = await session.get(PlatformConnection, platform_id)
    if row is None:
        return ConnectResult(ConnectReason.NOT_FOUND)
    await session.delete(row)
    await session.execute(delete(PlatformAccount).where(PlatformAccount.platform_id == platform_id))
    await record(session, Event(Action.PLATFORM_DISCONNECTED, by.role, user_ref(by),
                                subject_ref=f"platform:{platform_id}", details={"platform": platform_id,
                                                                               "kind": row.kind}))
    return ConnectResult(ConnectReason.OK)


@dataclass(frozen=True)
class Pending:
    """An OAuth sign-in under way, as the callback needs it (sealed in `platform_oauth_state`)."""

    form: ConnectForm
    verifier: str
    redirect_uri: str
    client_id: str
    client_secret: str
    by: tuple[str, str]


def authorize_url(kind: Kind, form: ConnectForm) -> str:
    """The platform's consent page; the admin may name another (a regional or a test server)."""
    chosen = form.values.get("authorize_url", "")
    if chosen.startswith(("https://", "http://")):
        return chosen
    return kind.authorize_url.format(api_base=form.api_base.rstrip("/"))


def token_url(form: ConnectForm) -> str:
    base = form.values.get("oauth_base") if form.kind in ("linkedin", "youtube") else None
    if form.kind == "threads":  # Threads' token endpoints carry no API version
        base = origin(form.api_base)
    return (base or KINDS[form.kind].token_base or form.api_base).rstrip("/") + KINDS[form.kind].token_path


def _signed_in_base(kind: Kind, form: ConnectForm) -> ConnectForm:
    """The address the signed-in token works at: the form's, unless it is still the default for typed tokens."""
    if kind.oauth_api_base and form.api_base.rstrip("/") == kind.api_base:
        return ConnectForm(**{**form.__dict__, "api_base": kind.oauth_api_base})
    return form


async def begin_oauth(session: AsyncSession, config: Config, form: ConnectForm, by: User,
                      http: GuardedSession) -> ConnectResult:
    """Checks the form, registers the app where the platform lets us (Mastodon), remembers the sign-in under
    a random `state` and answers the platform's consent page to send the admin to."""
    kind = KINDS.get(form.kind)
    if kind is not None and not kind.authorize_url:
        return _result({"kind": ConnectReason.NO_OAUTH})
    problems = _problems(config, form, kind.oauth_needs if kind else ())
    if problems:
        return _result(problems)
    form = _signed_in_base(kind, form)
    redirect_uri = config.instance.base_url.rstrip("/") + CALLBACK_PATH
    client_id, client_secret = form.values.get("client_id", ""), form.values.get("client_secret", "")
    if form.kind == "mastodon":
        registered = await _register_mastodon_app(http, form.api_base, redirect_uri, kind.scopes)
        if registered is None:
            return _result({"api_base": ConnectReason.OAUTH_REFUSED})
        client_id, client_secret = registered
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(32)
    pending = {"form": {**form.__dict__}, "verifier": verifier, "redirect_uri": redirect_uri,
               "client_id": client_id, "client_secret": client_secret, "by": [by.role, user_ref(by)]}
    key = load_or_create_key(config.instance.data_dir)
    # Sign-ins never finished (the admin closed the tab) are dropped here rather than by a job of their own.
    await session.execute(delete(PlatformOAuthState).where(PlatformOAuthState.expires_at < utcnow()))
    session.add(PlatformOAuthState(state_sha256=_digest(state), platform_id=form.id, sealed=seal(key, pending),
                                   expires_at=utcnow() + OAUTH_LIFETIME))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": kind.scopes,
             "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
    if kind.offline:  # prompt=consent: Google hands out the refresh token again on a reconnect
        query.update(access_type="offline", prompt="consent")
    return ConnectResult(ConnectReason.OK, redirect=f"{authorize_url(kind, form)}?{urlencode(query)}")


async def _register_mastodon_app(http: GuardedSession, api_base: str, redirect_uri: str,
                                 scopes: str) -> tuple[str, str] | None:
    body = await _post_form(http, api_base.rstrip("/") + "/api/v1/apps", {
        "client_name": "Stadtbote", "redirect_uris": redirect_uri, "scopes": scopes})
    if not body.get("client_id"):
        return None
    return str(body["client_id"]), str(body.get("client_secret") or "")


async def finish_oauth(session: AsyncSession, config: Config, state: str, code: str, http: GuardedSession,
                       now: datetime | None = None) -> ConnectResult:
    """The callback: the `state` must be one we issued, unused and young; the code is exchanged for tokens
    (with the PKCE verifier), which are sealed and stored as a new connection."""
    row = await session.get(PlatformOAuthState, _digest(state))
    if row is None:
        return ConnectResult(ConnectReason.OAUTH_EXPIRED)
    await session.delete(row)  # single use, whatever follows
    sealed = unseal(load_or_create_key(config.instance.data_dir), row.sealed)
    if sealed is None or row.expires_at < (now or utcnow()):
        return ConnectResult(ConnectReason.OAUTH_EXPIRED)
    if not code:  # the admin declined at the platform, or it answered with an error
        return ConnectResult(ConnectReason.OAUTH_REFUSED)
    form = ConnectForm(**sealed["form"])
    if await session.get(PlatformConnection, form.id) is not None or any(p.id == form.id for p in config.platforms):
        return ConnectResult(ConnectReason.ID_TAKEN)
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": sealed["redirect_uri"],
              "client_id": sealed["client_id"], "code_verifier": sealed["verifier"]}
    if sealed["client_secret"]:
        fields["client_secret"] = sealed["client_secret"]
    body = await _post_form(http, token_url(form), fields)
    found = await _meta_account(http, form, str(body["access_token"]), sealed["client_id"],
                                sealed["client_secret"]) if body.get("access_token") else {}
    if not found.get("access_token") or (KINDS[form.kind].offline and not body.get("refresh_token")):
        return ConnectResult(ConnectReason.OAUTH_REFUSED)
    credentials = {k: v for k, v in form.values.items() if v and k != "authorize_url"}
    credentials.update(found)
    if body.get("refresh_token"):
        credentials["refresh_token"] = str(body["refresh_token"])
    if sealed["client_id"] and form.kind != "mastodon":
        credentials["client_id"] = sealed["client_id"]
    await _store(session, config, form, _credentials(ConnectForm(**{**form.__dict__, "values": credentials})),
                 tuple(sealed["by"]), via="oauth")
    return ConnectResult(ConnectReason.OK)


async def _meta_account(http: GuardedSession, form: ConnectForm, token: str, client_id: str,
                        client_secret: str) -> dict[str, str]:
    """What the connector needs from a Meta sign-in, as credentials; other platforms' tokens are used as given.
    Facebook and Instagram post with the Page's token, asked for with the admin's long-lived user token (a Page
    token got with a short-lived one ends within hours); Instagram's account id is the Page's
    `instagram_business_account`. Threads swaps its short-lived token for a 60-day one and names the profile.
    {} when the platform refused a step."""
    if form.kind not in ("facebook", "instagram", "threads"):
        return {"access_token": token}
    long_lived = await _long_lived(http, form, token, client_id, client_secret)
    if not long_lived:
        return {}
    if form.kind == "threads":
        me = await _graph_get(http, f"{form.api_base.rstrip('/')}/me?fields=id,username", long_lived)
        return {"access_token": long_lived, "threads_user_id": str(me["id"])} if me.get("id") else {}
    if form.kind == "facebook":
        page = await _graph_get(http, f"{form.api_base.rstrip('/')}/{form.values.get('page_id', '')}"
                                      "?fields=access_token", long_lived)
        return {"access_token": str(page["access_token"])} if page.get("access_token") else {}
    pages = await _graph_get(http, f"{form.api_base.rstrip('/')}/me/accounts"
                                   "?fields=id,access_token,instagram_business_account{id,username}", long_lived)
    for page in pages.get("data") or ():
        linked = page.get("instagram_business_account") if isinstance(page, dict) else None
        if isinstance(linked, dict) and linked.get("id") and page.get("access_token"):
            # The first Page with an Instagram professional account, unless the admin named the account.
            if form.values.get("ig_user_id") in (None, "", str(linked["id"])):
                return {"access_token": str(page["access_token"]), "ig_user_id": str(linked["id"])}
    return {}


async def _long_lived(http: GuardedSession, form: ConnectForm, token: str, client_id: str, client_secret: str) -> str:
    if form.kind == "threads":
        url = f"{origin(form.api_base)}/access_token?" + urlencode(
            {"grant_type": "th_exchange_token", "client_secret": client_secret, "access_token": token})
    else:
        url = f"{form.api_base.rstrip('/')}/oauth/access_token?" + urlencode(
            {"grant_type": "fb_exchange_token", "client_id": client_id, "client_secret": client_secret,
             "fb_exchange_token": token})
    return str((await _graph_get(http, url, "")).get("access_token") or "")


async def _graph_get(http: GuardedSession, url: str, token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = await call(http, "GET", url, headers=headers)
    return answer.data if answer.ok and isinstance(answer.data, dict) else {}


async def _post_form(http: GuardedSession, url: str, fields: dict) -> dict:
    """The JSON object the platform answered; {} for a failed request, an error status or anything else."""
    answer = await call(http, "POST", url, body=urlencode(fields).encode(),
                        content_type="application/x-www-form-urlencoded")
    return answer.data if answer.ok and isinstance(answer.data, dict) else {}


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()
