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
from bridge.platforms.connectors.render import media_views, post_view
from bridge.store.db import utcnow
from bridge.store.models import Actor, Media, Role
from bridge.store.platforms import PlatformAccount
from bridge.platforms.status import views_of
from bridge.auth.users import may_use_actor, user_ref
from bridge.web.editor.compose_form import parse_form
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
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    form = request[FORM]  # the compose form is multipart: its body was read (once) by the CSRF check
    chosen = [p for p in config.platforms if p.id in form.getall("mirror", [])]
    actor = str(form.get("actor") or (config.actors[0].name if config.actors else ""))
    permalink = Uris.for_base(config.instance.base_url).permalink(actor, "…")
    parsed = parse_form(form, config.limits.max_images)
    async with request.app[SESSIONS]() as session:
        limits = await _limits(session)
        media = await _stored_media(session, actor, parsed.media_ids()) if may_use_actor(user, actor) else []
    images, videos = media_views(media, config)
    language = parsed.language or config.instance.language
    view = PostView(0, parsed.text, parsed.spoiler_text, language, permalink, images, utcnow(), videos=videos)
    # Files chosen but not yet uploaded (the form was not sent yet) are not in the preview: say so.
    unsent = any(s.upload is not None for s in parsed.images) or parsed.video.upload is not None
    return render(request, "mirror_preview.html", {"previews": previews(config, chosen, view, limits),
                                                   "images_note": unsent})


async def _stored_media(session, actor: str, ids: tuple[int, ...]) -> list[Media]:
    """The compose form's already uploaded media of this account, in the form's order."""
    if not ids:
        return []
    rows = (await session.scalars(select(Media).join(Actor, Media.actor_id == Actor.id)
                                  .where(Media.id.in_(ids), Actor.name == actor))).all()
    found = {m.id: m for m in rows}
    return [found[i] for i in ids if i in found]


def setup(app: web.Application) -> None:
    app.router.add_get("/editor/posts/{post_id:\\d+}/mirrors", post_mirrors, name="post_mirrors")
    app.router.add_post("/editor/posts/{post_id:\\d+}/mirrors/{platform}/decide", decide)
    app.router.add_post("/editor/posts/{post_id:\\d+}/mirrors/{platform}/done", done_by_hand)
    app.router.add_post("/editor/mirrors/preview", compose_preview, name="mirror_preview")
