"""What an app asks for at start-up that Stadtbote does not keep, answered in Mastodon's shapes so that
apps start without errors: no markers, lists, filters, followed tags, announcements, follow requests,
suggestions, conversations, bookmarks, favourites, mutes, blocks, featured tags, custom emojis or trends, no
filtered notifications, and no push subscription. And Mastodon's 404 for every other `/api/` path.
"""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG, SESSIONS
from bridge.web.api.accounts import PRIVATE
from bridge.web.api.request import NOT_FOUND, api_error, authorize

# Lists that are the token's (Mastodon answers them only with a token); then the public ones.
FOR_TOKEN = ("/api/v2/filters", "/api/v1/filters", "/api/v1/lists", "/api/v1/followed_tags", "/api/v1/announcements",
             "/api/v1/follow_requests", "/api/v2/suggestions", "/api/v1/conversations", "/api/v1/bookmarks",
             "/api/v1/favourites", "/api/v1/mutes", "/api/v1/blocks", "/api/v1/featured_tags",
             "/api/v1/notifications/requests")
# Mastodon 4.3's notification filter (apps show it in their settings): everything is let through, no requests.
NOTIFICATION_POLICY = {"for_not_following": "accept", "for_not_followers": "accept", "for_new_accounts": "accept",
                       "for_private_mentions": "accept", "for_limited_accounts": "accept",
                       "summary": {"pending_requests_count": 0, "pending_notifications_count": 0}}
PUBLIC = ("/api/v1/custom_emojis", "/api/v1/trends", "/api/v1/trends/tags", "/api/v1/trends/statuses",
          "/api/v1/trends/links")


async def _token(request: web.Request) -> None:
    async with request.app[SESSIONS]() as session:
        await authorize(request, session)
        await session.commit()  # keeps the token's last_used_at


async def empty_list_for_token(request: web.Request) -> web.Response:
    await _token(request)
    return web.json_response([], headers=PRIVATE)


async def empty_list(request: web.Request) -> web.Response:
    return web.json_response([], headers={"Cache-Control": "public, max-age=60"})


async def empty_object(request: web.Request) -> web.Response:
    """`GET`/`POST /api/v1/markers`, `DELETE /api/v1/push/subscription`: nothing kept."""
    await _token(request)
    return web.json_response({}, headers=PRIVATE)


async def notification_policy(request: web.Request) -> web.Response:
    await _token(request)
    return web.json_response(NOTIFICATION_POLICY, headers=PRIVATE)


async def no_push_subscription(request: web.Request) -> web.Response:
    """Web Push is not offered: there is never a subscription (Mastodon's 404 when there is none)."""
    await _token(request)
    raise api_error(404, NOT_FOUND)


async def refuse_push_subscription(request: web.Request) -> web.Response:
    await _token(request)
    raise api_error(422, "Validation failed: Push notifications are not offered by this server")


async def preferences(request: web.Request) -> web.Response:
    """The defaults an app applies when composing: public, no warning, the instance's language."""
    await _token(request)
    return web.json_response({"posting:default:visibility": "public", "posting:default:sensitive": False,
                              "posting:default:language": request.app[CONFIG].instance.language,
                              "reading:expand:media": "default", "reading:expand:spoilers": False},
                             headers=PRIVATE)


async def not_found(request: web.Request) -> web.Response:
    raise api_error(404, NOT_FOUND)


def setup(app: web.Application) -> None:
    for path in FOR_TOKEN:
        app.router.add_get(path, empty_list_for_token)
    for path in PUBLIC:
        app.router.add_get(path, empty_list)
    app.router.add_get("/api/v2/notifications/policy", notification_policy)
    app.router.add_get("/api/v1/push/subscription", no_push_subscription)
    app.router.add_post("/api/v1/push/subscription", refuse_push_subscription)
    app.router.add_put("/api/v1/push/subscription", refuse_push_subscription)
    app.router.add_delete("/api/v1/push/subscription", empty_object)
    app.router.add_get("/api/v1/markers", empty_object)
    app.router.add_post("/api/v1/markers", empty_object)
    app.router.add_get("/api/v1/preferences", preferences)


def setup_not_found(app: web.Application) -> None:
    """Last of all: an `/api/` path no route matched (or a method it does not take) is Mastodon's 404."""
    app.router.add_route("*", "/api/{path:.*}", not_found)
