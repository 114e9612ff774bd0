"""Who may see a page: the one guard every signed-in view calls first, plus small view helpers."""

from __future__ import annotations

from typing import Iterable
from urllib.parse import quote

from aiohttp import web

from bridge.appkeys import USER
from bridge.store.models import Post, Role, User
from bridge.auth.users import may_use_actor
from bridge.web.messages import N_

PASSWORD_PATH = "/password"


def local_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site may be a redirect target, so `?next=` cannot send users elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target


def password_path(then: str | None) -> str:
    """The forced password change, remembering the page the person was on their way to (an app's consent page)."""
    target = local_path(then, "")
    return f"{PASSWORD_PATH}?next={quote(target, safe='/')}" if target and target != PASSWORD_PATH else PASSWORD_PATH


def home_for(user: User) -> str:
    if user.role == Role.DPO:
        return "/dpo"
    return "/editor"


def require_user(request: web.Request, roles: Iterable[str] | None = None, *,
                 password_pending_ok: bool = False) -> User:
    """The signed-in user, or an exception that answers the request.

    Anonymous → 303 to the sign-in page (remembering where they wanted to go); a user who still has a
    one-time password → 303 to the password page; a user of the wrong role → 403.
    """
    user: User | None = request.get(USER)
    if user is None:
        if request.method != "GET":  # a form sent after the session ended has no page to return to
            raise web.HTTPSeeOther("/signin")
        raise web.HTTPSeeOther(f"/signin?next={quote(local_path(request.path_qs), safe='/')}")
    if user.must_change_password and not password_pending_ok:
        raise web.HTTPSeeOther(password_path(request.path_qs if request.method == "GET" else None))
    if roles is not None and user.role not in set(roles):
        raise web.HTTPForbidden(text=N_("Your role does not allow this page."))
    return user


def see_other(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def row_id(value: str | None) -> int | None:
    """An id of a table with 32-bit ids (PostgreSQL refuses larger numbers there): None when out of range."""
    number = int_param(value)
    return number if number is not None and number < 2**31 else None


def int_param(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


async def load_post(request: web.Request, session, user: User):
    """The post named in the URL, if this user works for its account: 404 when missing, 403 when not theirs."""
    from_url = int_param(request.match_info.get("post_id"))
    post = await session.get(Post, from_url) if from_url is not None else None
    if post is None:
        raise web.HTTPNotFound(text=N_("No such post."))
    if not may_use_actor(user, post.actor.name):
        raise web.HTTPForbidden(text=N_("You may not post as this account."))
    return post
