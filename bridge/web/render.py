"""Jinja2 environment and the one function views use to render a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bridge.appkeys import CONFIG, CSRF_TOKEN, TEMPLATES, USER
from bridge.web import filters
from bridge.web.i18n import Catalogues, current_language
from bridge.web.sessions import csrf_token_for

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"


def create_templates(catalogues: Catalogues) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(catalogues.gettext, catalogues.ngettext, newstyle=True)
    filters.add_to(env)
    return env


def csrf_token(request: web.Request) -> str:
    """The page's form token, made once per request and only for pages (never for API or federation)."""
    token = request.get(CSRF_TOKEN)
    if token is None:
        token = request[CSRF_TOKEN] = csrf_token_for(request)
    return token


def render(request: web.Request, template: str, context: dict[str, Any] | None = None,
           status: int = 200) -> web.Response:
    env = request.app[TEMPLATES]
    config = request.app[CONFIG]
    base = {
        "config": config,
        "instance": config.instance,
        "privacy": config.privacy,
        "user": request.get(USER),
        "csrf_token": csrf_token(request),
        "lang": current_language(),
        "request_path": request.path,
    }
    base.update(context or {})
    html = env.get_template(template).render(**base)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
