"""Typed keys for everything `create_app` wires; nothing is reached through module globals."""

from __future__ import annotations

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bridge.config import Config
from bridge.federation import Federation
from bridge.worker import Worker

CONFIG = web.AppKey("config", Config)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
TEMPLATES = web.AppKey("templates", jinja2.Environment)
SECRET = web.AppKey("secret", bytes)
WORKER = web.AppKey("worker", Worker)
FEDERATION = web.AppKey("federation", Federation)
