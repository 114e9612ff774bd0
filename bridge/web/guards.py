"""Who may see a page: the one guard every signed-in view calls first, plus small view helpers."""

from __future__ import annotations

from typing import Iterable
from urllib.parse import quote

from aiohttp import web

from bridge.appkeys import CONFIG, USER
from bridge.store.models import Post, Role, User
from bridge.auth.totp import needs_enrolment
from bridge.auth.users import may_use_actor
from bridge.web.messages import N_

PASSWORD_PATH = "/password"
SECOND_FACTOR_PATH = "/second-factor"


def local_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site may be a redirect target, so `?next=` cannot send users elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target


def password_path(then: str | None) -> str:
    """The forced password change, remembering the page the person was on their way to (an app's consent page)."""
    return _with_next(PASSWORD_PATH, then)


def second_factor_path(then: str | None) -> str:
    """The forced enrolment of a second factor, remembering where the person was going."""
    return _with_next(SECOND_FACTOR_PATH, then)


def _with_next(path: str, then: str | None) -> str:
    target = local_path(then, "")
    return f"{path}?next={quote(target, safe='/')}" if target and not target.startswith(path) else path


def home_for(user: User) -> str:
    if user.role == Role.DPO:
        return "/dpo"
    return "/editor"


def require_user(request: web.Request, roles: Iterable[str] | None = None, *,
                 password_pending_ok: bool = False, enrolment_pending_ok: bool = False) -> User:
    """The signed-in user, or an exception that answers the request.

    Anonymous → 303 to the sign-in page (remembering where they wanted to go); a user who still has a
    one-time password → 303 to the password page; a user whose role requires a second factor they have not
    set up → 303 to its enrolment (`[security] require_second_factor`); a user of the wrong role → 403.
    The settings page (`password_pending_ok`) is open before both, the enrolment page after the password.
    """
    user: User | None = request.get(USER)
    if user is None:
        if request.method != "GET":  # a form sent after the session ended has no page to return to
            raise web.HTTPSeeOther("/signin")
        raise web.HTTPSeeOther(f"/signin?next={quote(local_path(request.path_qs), safe='/')}")
    then = request.path_qs if request.method == "GET" else None
    if user.must_change_password and not password_pending_ok:
        raise web.HTTPSeeOther(password_path(then))
    if not (password_pending_ok or enrolment_pending_ok) and needs_enrolment(request.app[CONFIG], user):
        raise web.HTTPSeeOther(second_factor_path(then))
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
