"""What an app asks for at start-up that Stadtbote does not keep, answered in Mastodon's shapes so that
apps start without errors: no notifications yet, no markers, lists, filters, followed tags,
announcements, custom emojis or trends. And Mastodon's 404 for every other `/api/` path.
"""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG, SESSIONS
from bridge.web.api.accounts import PRIVATE
from bridge.web.api.request import NOT_FOUND, api_error, authorize, path_id

# Lists that are the token's (Mastodon answers them only with a token); then the public ones.
FOR_TOKEN = ("/api/v1/notifications", "/api/v2/filters", "/api/v1/filters", "/api/v1/lists",
             "/api/v1/followed_tags", "/api/v1/announcements")
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
    """`GET /api/v1/markers`, `POST /api/v1/markers`, `POST /api/v1/notifications/clear`: nothing kept."""
    await _token(request)
    return web.json_response({}, headers=PRIVATE)


async def dismiss(request: web.Request) -> web.Response:
    """There is no notification to dismiss; Mastodon answers a dismissal with 200 and an empty object."""
    path_id(request)
    await _token(request)
    return web.json_response({}, headers=PRIVATE)


async def unread_count(request: web.Request) -> web.Response:
    await _token(request)
    return web.json_response({"count": 0}, headers=PRIVATE)


async def grouped_notifications(request: web.Request) -> web.Response:
    """`/api/v2/notifications` (Mastodon 4.3's grouped notifications), empty."""
    await _token(request)
    return web.json_response({"accounts": [], "statuses": [], "notification_groups": []}, headers=PRIVATE)


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
    app.router.add_get("/api/v1/notifications/unread_count", unread_count)
    app.router.add_post(r"/api/v1/notifications/{id}/dismiss", dismiss)
    app.router.add_post("/api/v1/notifications/clear", empty_object)
    app.router.add_get("/api/v2/notifications", grouped_notifications)
    app.router.add_get("/api/v1/markers", empty_object)
    app.router.add_post("/api/v1/markers", empty_object)
    app.router.add_get("/api/v1/preferences", preferences)


def setup_not_found(app: web.Application) -> None:
    """Last of all: an `/api/` path no route matched (or a method it does not take) is Mastodon's 404."""
    app.router.add_route("*", "/api/{path:.*}", not_found)
