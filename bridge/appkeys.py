"""Typed keys for everything `create_app` wires; nothing is reached through module globals."""

from __future__ import annotations

import jinja2
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bridge.config.model import Config
from bridge.runtime.federation import Federation
from bridge.runtime.pageviews import PageCounter
from bridge.store.models import User, WebSession

CONFIG = web.AppKey("config", Config)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
TEMPLATES = web.AppKey("templates", jinja2.Environment)
SECRET = web.AppKey("secret", bytes)
FEDERATION = web.AppKey("federation", Federation)
PAGE_COUNTER = web.AppKey("page_counter", PageCounter)  # page views and feed subscribers, until flushed
# The instance read version this process last reloaded its accounts at ({scope: version}; empty before the first).
ACCOUNTS_SEEN = web.AppKey("accounts_seen", dict)

# Per request, set by the middleware: the signed-in user (or None), their session row, the form token.
USER = web.RequestKey("user", User | None)
WEB_SESSION = web.RequestKey("web_session", WebSession | None)
CSRF_TOKEN = web.RequestKey("csrf_token", str)
FORM = web.RequestKey("form", MultiDictProxy)  # the posted form, read once by the CSRF check
