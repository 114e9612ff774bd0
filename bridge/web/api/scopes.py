"""Which OAuth scopes each API route needs: the one table `authorize` consults, with Mastodon 4.3's choices
(its controllers' `doorkeeper_authorize!`). A route that is missing here is refused to every token, so a new
route cannot slip through unguarded; `tests/bridge/web/test_api_scopes.py` walks the router against it.

Each entry names the alternatives that allow the route (the granular scope; its parent, `read` or `write`,
allows it too). `PUBLIC` routes need no scope; on the routes that answer without a token too, a token that is
sent must still cover the route, as in Mastodon.
"""

from __future__ import annotations

from aiohttp import web

PUBLIC: tuple[str, ...] = ()

READ_STATUSES, WRITE_STATUSES = ("read:statuses",), ("write:statuses",)
READ_ACCOUNTS, WRITE_MEDIA = ("read:accounts",), ("write:media",)
READ_NOTIFICATIONS, WRITE_NOTIFICATIONS = ("read:notifications",), ("write:notifications",)

ROUTE_SCOPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/api/v1/apps"): PUBLIC,
    ("GET", "/api/v1/apps/verify_credentials"): PUBLIC,  # any token of the app, whatever its scopes
    ("GET", "/api/v1/instance"): PUBLIC,
    ("GET", "/api/v2/instance"): PUBLIC,
    ("GET", "/api/v1/custom_emojis"): PUBLIC,
    ("GET", "/api/v1/trends"): PUBLIC,
    ("GET", "/api/v1/trends/tags"): PUBLIC,
    ("GET", "/api/v1/trends/statuses"): PUBLIC,
    ("GET", "/api/v1/trends/links"): PUBLIC,
    ("POST", "/api/v1/statuses"): WRITE_STATUSES,
    ("GET", "/api/v1/statuses/{id}"): READ_STATUSES,
    ("PUT", "/api/v1/statuses/{id}"): WRITE_STATUSES,
    ("DELETE", "/api/v1/statuses/{id}"): WRITE_STATUSES,
    ("GET", "/api/v1/statuses/{id}/history"): READ_STATUSES,
    ("GET", "/api/v1/statuses/{id}/source"): READ_STATUSES,
    ("GET", "/api/v1/statuses/{id}/context"): READ_STATUSES,
    ("GET", "/api/v1/statuses/{id}/favourited_by"): READ_ACCOUNTS,
    ("GET", "/api/v1/statuses/{id}/reblogged_by"): READ_ACCOUNTS,
    ("GET", "/api/v1/scheduled_statuses"): READ_STATUSES,
    ("GET", "/api/v1/scheduled_statuses/{id}"): READ_STATUSES,
    ("PUT", "/api/v1/scheduled_statuses/{id}"): WRITE_STATUSES,
    ("DELETE", "/api/v1/scheduled_statuses/{id}"): WRITE_STATUSES,
    ("POST", "/api/v1/media"): WRITE_MEDIA,
    ("POST", "/api/v2/media"): WRITE_MEDIA,
    ("GET", "/api/v1/media/{id}"): WRITE_MEDIA,
    ("PUT", "/api/v1/media/{id}"): WRITE_MEDIA,
    ("GET", "/api/v1/timelines/home"): READ_STATUSES,
    ("GET", "/api/v1/timelines/public"): READ_STATUSES,
    ("GET", "/api/v1/timelines/tag/{hashtag}"): READ_STATUSES,
    ("GET", "/api/v1/accounts/verify_credentials"): ("profile", "read:accounts"),
    ("PATCH", "/api/v1/accounts/update_credentials"): ("write:accounts",),
    ("GET", "/api/v1/accounts/lookup"): READ_ACCOUNTS,
    ("GET", "/api/v1/accounts/relationships"): ("read:follows",),
    ("GET", "/api/v1/accounts/{id}"): READ_ACCOUNTS,
    ("GET", "/api/v1/accounts/{id}/statuses"): READ_STATUSES,
    ("GET", "/api/v1/accounts/{id}/followers"): READ_ACCOUNTS,
    ("GET", "/api/v1/accounts/{id}/following"): READ_ACCOUNTS,
    ("GET", "/api/v1/accounts/{id}/featured_tags"): READ_ACCOUNTS,
    ("GET", "/api/v2/search"): ("read:search",),
    ("GET", "/api/v1/accounts/search"): READ_ACCOUNTS,
    ("GET", "/api/v1/notifications"): READ_NOTIFICATIONS,
    ("GET", "/api/v1/notifications/unread_count"): READ_NOTIFICATIONS,
    ("GET", "/api/v1/notifications/{id}"): READ_NOTIFICATIONS,
    ("POST", "/api/v1/notifications/{id}/dismiss"): WRITE_NOTIFICATIONS,
    ("POST", "/api/v1/notifications/clear"): WRITE_NOTIFICATIONS,
    ("GET", "/api/v2/notifications"): READ_NOTIFICATIONS,
    ("GET", "/api/v1/markers"): READ_STATUSES,
    ("POST", "/api/v1/markers"): WRITE_STATUSES,
    ("GET", "/api/v1/preferences"): READ_ACCOUNTS,
    ("GET", "/api/v1/filters"): ("read:filters",),
    ("GET", "/api/v2/filters"): ("read:filters",),
    ("GET", "/api/v1/lists"): ("read:lists",),
    ("GET", "/api/v1/followed_tags"): ("read:follows",),
    ("GET", "/api/v1/announcements"): ("read",),  # Mastodon asks for `read` itself here
    ("GET", "/api/v1/follow_requests"): ("read:follows",),
    ("GET", "/api/v2/suggestions"): ("read",),
    ("GET", "/api/v1/conversations"): READ_STATUSES,
    ("GET", "/api/v1/bookmarks"): ("read:bookmarks",),
    ("GET", "/api/v1/favourites"): ("read:favourites",),
    ("GET", "/api/v1/mutes"): ("read:mutes",),
    ("GET", "/api/v1/blocks"): ("read:blocks",),
    ("GET", "/api/v1/featured_tags"): READ_ACCOUNTS,
    ("GET", "/api/v1/notifications/requests"): READ_NOTIFICATIONS,
    ("GET", "/api/v2/notifications/policy"): READ_NOTIFICATIONS,
    ("GET", "/api/v1/push/subscription"): ("push",),
    ("POST", "/api/v1/push/subscription"): ("push",),
    ("PUT", "/api/v1/push/subscription"): ("push",),
    ("DELETE", "/api/v1/push/subscription"): ("push",),
}


def route_key(request: web.Request) -> tuple[str, str] | None:
    """The request's route as the table names it: HEAD as GET, without the tolerated trailing slash."""
    resource = request.match_info.route.resource
    if resource is None:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    return method, resource.canonical.rstrip("/") or "/"


def required_scopes(request: web.Request) -> tuple[str, ...] | None:
    """The scopes that allow this request; None for a route the table does not know (refused)."""
    key = route_key(request)
    return ROUTE_SCOPES.get(key) if key else None
