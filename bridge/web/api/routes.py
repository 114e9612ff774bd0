"""The automation API: a Mastodon-compatible subset, so that existing tools and libraries can post.

Every request authenticates with a bearer token bound to one user and one account (`bridge.tokens`);
nothing here reads or sets cookies, and CSRF does not apply (see `bridge.web.middleware.is_api`).
Errors have Mastodon's shape `{"error": "…"}`.
"""

from aiohttp import web

from bridge.web.api import (
    accounts as api_accounts,
    instance as api_instance,
    media as api_media,
    statuses as api_statuses,
)


def setup(app: web.Application) -> None:
    """Registers the API routes."""
    api_statuses.setup(app)
    api_media.setup(app)
    api_accounts.setup(app)
    api_instance.setup(app)
