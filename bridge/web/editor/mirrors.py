"""Editor and admin views of mirroring: exactly what each platform gets (with a counter in the platform's
unit), each platform's send state with its reason and the unknown-outcome decision, and the admin's list
of platform accounts ("reconnect needed", rate-limit pauses, token expiry)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select

from activitypub.uris import Uris
from bridge.platforms import sends as mirroring
from bridge.appkeys import CONFIG, FORM, SESSIONS
from bridge.config.model import Config, PlatformConfig
from bridge.platforms.connectors import registry
from bridge.platforms.connectors.base import AccountState, PostView, Reason, Rendered
from bridge.platforms.connectors.render import post_view
from bridge.store.db import utcnow
from bridge.store.models import Role
from bridge.store.platforms import PlatformAccount
from bridge.platforms.status import views_of
from bridge.auth.users import user_ref
from bridge.web.guards import load_post, require_user, see_other
from bridge.web.render import render

EDITORS = (Role.ADMIN, Role.EDITOR)
REASONS = {str(r): r.description for r in Reason}


@dataclass(frozen=True)
class Preview:
    platform: PlatformConfig
    rendered: Rendered | None  # None: no connector for this kind yet


def previews(config: Config, platforms: list[PlatformConfig], view: PostView, limits: dict[str, dict]) -> list[Preview]:
    found = []
    for platform in platforms:
        connector = registry.build(platform, None, AccountState(limits=limits.get(platform.id, {})), utcnow)
        found.append(Preview(platform, connector.render(view) if connector is not None else None))
    return found


async def _limits(session) -> dict[str, dict]:
    return {a.platform_id: dict(a.limits or {}) for a in (await session.scalars(select(PlatformAccount))).all()}


async def post_mirrors(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        sends = {s.platform_id: s for s in await mirroring.sends_of(session, post.id)}
        views = {v.platform_id: v for v in await views_of(session, list(sends.values()), utcnow())}
        limits = await _limits(session)
    wanted = [p for p in config.platforms if p.id in (post.mirrors or []) or p.id in sends]
    view = post_view(post, config, Uris.for_base(config.instance.base_url))
    return render(request, "mirrors.html", {"post": post, "sends": sends, "views": views, "reasons": REASONS,
                                            "previews": previews(config, wanted, view, limits)})


async def decide(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    form = request[FORM]  # read once, by the CSRF check: the body is gone
    try:
        decision = mirroring.Decision(form.get("decision", ""))
    except ValueError:
        raise web.HTTPBadRequest(text="unknown decision") from None
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        await mirroring.decide(session, post.id, request.match_info["platform"], decision, user.role, user_ref(user))
        await session.commit()
    raise see_other(f"/editor/posts/{post.id}/mirrors")


async def done_by_hand(request: web.Request) -> web.StreamResponse:
    """XING's manual route: the editor posted the prepared text there and says so (who and when are kept)."""
    user = require_user(request, roles=EDITORS)
    platform = next((p for p in request.app[CONFIG].platforms if p.id == request.match_info["platform"]), None)
    if platform is None:
        raise web.HTTPNotFound(text="unknown platform")
    async with request.app[SESSIONS]() as session:
        post = await load_post(request, session, user)
        await mirroring.mark_by_hand(session, post.id, platform, user.role, user_ref(user), user.name)
        await session.commit()
    raise see_other(f"/editor/posts/{post.id}/mirrors")


async def compose_preview(request: web.Request) -> web.StreamResponse:
    """The compose form's "preview per platform" button: the text as each checked platform gets it."""
    require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    form = request[FORM]  # the compose form is multipart: its body was read (once) by the CSRF check
    chosen = [p for p in config.platforms if p.id in form.getall("mirror", [])]
    actor = str(form.get("actor") or (config.actors[0].name if config.actors else ""))
    permalink = Uris.for_base(config.instance.base_url).permalink(actor, "…")
    view = PostView(0, str(form.get("text", "")), str(form.get("spoiler_text", "")), config.instance.language,
                    permalink, (), utcnow())
    async with request.app[SESSIONS]() as session:
        limits = await _limits(session)
    return render(request, "mirror_preview.html", {"previews": previews(config, chosen, view, limits),
                                                   "images_note": bool(form.getall("media_id", []))})


def setup(app: web.Application) -> None:
    app.router.add_get("/editor/posts/{post_id:\\d+}/mirrors", post_mirrors, name="post_mirrors")
    app.router.add_post("/editor/posts/{post_id:\\d+}/mirrors/{platform}/decide", decide)
    app.router.add_post("/editor/posts/{post_id:\\d+}/mirrors/{platform}/done", done_by_hand)
    app.router.add_post("/editor/mirrors/preview", compose_preview, name="mirror_preview")
