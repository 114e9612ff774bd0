"""Middlewares: security headers, error pages, signed-in user and language, CSRF on every form."""

from __future__ import annotations

import itertools
import logging
import os
import time

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bridge.appkeys import ACCOUNTS_SEEN, CONFIG, FORM, SESSIONS, USER, WEB_SESSION
from bridge.config.model import Config
from bridge.runtime import logs, metrics
from bridge.runtime.accounts import refresh as refresh_accounts
from bridge.store.versions import INSTANCE
from bridge.web.headers import SECURITY_HEADERS
from bridge.web.readcache import READ_CACHE
from bridge.web.clients import client_of
from bridge.web.i18n import set_language
from bridge.web.form_reader import TEXT_CAP, FormCaps, check_url, read_form
from bridge.web.render import render
from consent.securitylog import truncate_address
from bridge.web.sessions import check_csrf, has_session_cookie, load_session
from consent.audit import Action, Event, Outcome, record

log = logging.getLogger("stadtbote.web")

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
OPERATIONS = ("/healthz", "/readyz", "/metrics")  # probes and scrapers: no session, no cookie, no form
# Answers for editors, admins, the DPO and API clients: no shared cache may keep them, whoever asks.
PRIVATE_AREAS = ("/editor", "/admin", "/dpo", "/api/", "/oauth/", "/signin", "/signout", "/password", "/language")
REQUEST_ID = web.RequestKey("request_id", str)
# Request ids: a random prefix per process and a counter, unique without a system call per request.
_ID_PREFIX = os.urandom(4).hex()
_request_numbers = itertools.count(1)


def is_api(path: str) -> bool:
    # /oauth/authorize is the one /oauth/ page a person sees: signed in, with a CSRF-protected form.
    return path.startswith("/api/") or (path.startswith("/oauth/") and path != "/oauth/authorize")


def is_federation(path: str) -> bool:
    # Inboxes authenticate by HTTP signature, not by a form token.
    return path == "/inbox" or (path.startswith("/users/") and path.endswith("/inbox"))


def is_operations(path: str) -> bool:
    return path in OPERATIONS


def route_name(request: web.BaseRequest) -> str:
    """The route's name, else its canonical path ("/users/{name}"); never the raw path, which may name a
    person or carry anything a client typed."""
    match_info = getattr(request, "match_info", None)
    resource = match_info.route.resource if match_info is not None else None
    if resource is None:
        return "unmatched"
    return resource.name or resource.canonical


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_request_numbers):08x}"


@web.middleware
async def measure(request: web.Request, handler):
    """A request id for every log line the request causes, and its duration by route for `/metrics`."""
    request[REQUEST_ID] = new_request_id()
    token = logs.REQUEST_ID.set(request[REQUEST_ID])
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        metrics.observe_request(route_name(request), time.perf_counter() - started)
        logs.REQUEST_ID.reset(token)


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects travel as exceptions; they get the headers too
        _add_headers(request, exc)
        raise
    _add_headers(request, response)
    return response


def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.get(USER) is not None or request.path.startswith(PRIVATE_AREAS):
        response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def errors(request: web.Request, handler):
    """No traceback ever reaches a user; API callers get Mastodon's error shape."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json" or exc.status == 304:
            raise
        return _error_response(request, exc.status, exc.reason, exc.text if exc.text else None)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(request, 500, "Internal Server Error", None)


def _error_response(request: web.Request, status: int, reason: str, text: str | None) -> web.Response:
    message = text if text and not text.startswith(f"{status}:") else reason
    if is_api(request.path):
        return web.json_response({"error": message}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


@web.middleware
async def current_accounts(request: web.Request, handler):
    """The accounts and platforms as the database has them: reloaded only when the instance's read version
    moved (every change of an account or a platform connection bumps it), so a request costs no query of its
    own. The version board re-reads at once after this process's commits and otherwise every
    `[cache] recheck_ms`: an account made in another process answers here within that time."""
    if not is_operations(request.path) and not request.path.startswith("/static/"):
        snapshot = await request.app[READ_CACHE].board.current()
        seen = request.app[ACCOUNTS_SEEN]
        if seen.get(INSTANCE) != snapshot.version(INSTANCE):
            async with request.app[SESSIONS]() as session:
                await refresh_accounts(session, request.app[CONFIG])
            seen[INSTANCE] = snapshot.version(INSTANCE)  # read before the reload: it saw at least that much
    return await handler(request)


@web.middleware
async def signed_in_user(request: web.Request, handler):
    config = request.app[CONFIG]
    request[USER] = None
    request[WEB_SESSION] = None
    language = config.instance.language
    # Readers carry no cookie: their requests open no database session (the CSRF token of a page is made
    # by `render`, only when a page is rendered).
    if has_session_cookie(request) and not is_api(request.path) and not is_federation(request.path) \
            and not is_operations(request.path):
        async with request.app[SESSIONS]() as session:
            loaded = await load_session(request, session)
        if loaded is not None:
            request[USER], request[WEB_SESSION] = loaded
            language = loaded[0].language or language
    set_language(language)
    return await handler(request)


@web.middleware
async def csrf(request: web.Request, handler):
    check_url(request, api=is_api(request.path))  # before any handler can look up what the URL carries
    if request.method in UNSAFE and not is_api(request.path) and not is_federation(request.path):
        # Signed-in people's forms are read part by part: an oversized image must not cost the text typed.
        form = await read_form(request, form_caps(request.app[CONFIG]) if request.get(USER) else None)
        request[FORM] = form
        if not check_csrf(request, str(form.get("csrf", ""))):
            user = request.get(USER)
            async with request.app[SESSIONS].begin() as session:
                await record(session, Event(Action.CSRF_REJECTED, user.role if user else "anonymous",
                                            f"user:{user.id}" if user else "anonymous", Outcome.DENIED,
                                            reason="csrf_missing_or_invalid"))
            raise web.HTTPForbidden(text="The form expired or did not come from this site. "
                                         "Go back, reload the page and submit it again.")
    return await handler(request)


def form_caps(config: Config) -> FormCaps:
    limits = config.limits
    return FormCaps(file_cap=limits.upload_bytes, max_files=limits.upload_files,
                    text_cap=TEXT_CAP, body_cap=10 * limits.upload_body_bytes + TEXT_CAP)  # e.g. four 100 MB photos, dropped


class PrivateAccessLogger(AbstractAccessLogger):
    """Method, path without query string, status and time: no reader IPs, no feed query strings.

    Given the format "truncate" (`[privacy] access_log_addresses`), it adds the client's network
    (IPv4 /20, IPv6 /44) — enough to see abuse, not enough to identify a reader."""

    def __init__(self, logger: logging.Logger, log_format: str):
        super().__init__(logger, log_format)
        self.writer = logs.line_writer(logger)

    def log(self, request, response, time):
        # For `[logging] format = "json"`: the same facts as fields (`bridge.runtime.logs.FIELDS`).
        extra = {"request_id": request.get(REQUEST_ID), "route": route_name(request), "status": response.status,
                 "duration_ms": round(time * 1000, 1)}
        message = f"{request.method} {request.path} {response.status} {time * 1000:.1f}ms"
        if self.log_format == "truncate":
            message = f"{truncate_address(client_of(request).address) or '-'} {message}"
        if self.writer is not None:
            self.writer.write(self.logger.name, message, extra)
        else:
            self.logger.info("%s", message, extra=extra)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
