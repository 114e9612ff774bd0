"""Who may moderate which replies, and the moderation view's URLs (shared by its pages)."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bridge.appkeys import CONFIG
from bridge.store.models import User
from bridge.auth.users import allowed_actors
from bridge.web.guards import int_param
from bridge.web.messages import N_
from consent.models import Reply

NOT_YOURS = N_("You may not moderate replies of this account.")


def replies_url(actor_name: str, post_id: int | None = None, notice: str | None = None) -> str:
    query = {k: v for k, v in (("post", post_id), ("notice", notice)) if v}
    return f"/editor/actors/{actor_name}/replies" + (f"?{urlencode(query)}" if query else "")


def query_without(request: web.Request, name: str) -> str:
    kept = [(k, v) for k, v in request.query.items() if k != name]
    return f"?{urlencode(kept)}" if kept else ""


async def load_reply(request: web.Request, session, user: User) -> Reply:
    """The reply in the URL, if the user works for its account: 404 when missing, 403 when not theirs."""
    reply_id = int_param(request.match_info.get("reply_id"))
    reply = await session.get(Reply, reply_id) if reply_id is not None else None
    if reply is None:
        raise web.HTTPNotFound(text=N_("No such reply."))
    if reply.actor_name not in allowed_actors(request.app[CONFIG], user):
        raise web.HTTPForbidden(text=NOT_YOURS)
    return reply
