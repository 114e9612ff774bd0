"""The automation API: a Mastodon-compatible subset, so that existing tools and libraries can post.

Every request authenticates with a bearer token bound to one user and one account (`bridge.tokens`);
nothing here reads or sets cookies, and CSRF does not apply (see `bridge.web.middleware.is_api`).
Errors have Mastodon's shape `{"error": "…"}`.
"""

from aiohttp import web

from bridge.web.api import (
    accounts as api_accounts,
    apps as api_apps,
    empty as api_empty,
    instance as api_instance,
    media as api_media,
    notifications as api_notifications,
    scheduled as api_scheduled,
    search as api_search,
    timelines as api_timelines,
    statuses as api_statuses,
)


def setup(app: web.Application) -> None:
    """Registers the API routes."""
    api_statuses.setup(app)
    api_media.setup(app)
    api_scheduled.setup(app)
    api_timelines.setup(app)
    api_notifications.setup(app)
    api_search.setup(app)
    api_accounts.setup(app)
    api_instance.setup(app)
    api_apps.setup(app)
    api_empty.setup(app)
    tolerate_trailing_slash(app)
    api_empty.setup_not_found(app)


def tolerate_trailing_slash(app: web.Application) -> None:
    """`/api/v1/instance/` answers like `/api/v1/instance`, as Rails routes do in Mastodon: some clients add
    the slash (Mastodon.py recursed thousands of times on the 404 it used to get)."""
    taken = {(route.method, route.resource.canonical) for route in app.router.routes() if route.resource}
    for method, path, handler in [(r.method, r.resource.canonical, r.handler) for r in app.router.routes()
                                  if r.resource and r.resource.canonical.startswith("/api/")]:
        if method != "HEAD" and not path.endswith("/") and (method, f"{path}/") not in taken:
            app.router.add_route(method, f"{path}/", handler)
