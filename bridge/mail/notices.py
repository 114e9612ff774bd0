"""Which staff get an e-mail when something happens, queued in the caller's transaction.

Only references go into the job (user, post, link ids): the worker writes the message when it sends, so the
queue holds no text, no address and no link token, and a mail about a post deleted meanwhile is dropped.
Nothing is queued when `[mail]` is not configured or the person has no address.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.config.model import Config
from bridge.mail.texts import APPROVAL_WAITING, PASSWORD_RESET, POST_RETURNED, REPLY_DIGEST, WELCOME
from bridge.queue import jobs
from bridge.store.models import PasswordReset, Post, Role, User, UserActor

__all__ = ["APPROVAL_WAITING", "MAIL_JOB", "PASSWORD_RESET", "POST_RETURNED", "REPLY_DIGEST", "WELCOME",
           "approval_waiting", "post_returned", "queue_mail", "reset_link", "welcome"]

MAIL_JOB = "mail"


async def queue_mail(session: AsyncSession, config: Config, kind: str, user: User, **refs) -> bool:
    if not config.mail.enabled or not user.email or user.disabled:
        return False
    await jobs.enqueue(session, MAIL_JOB, {"kind": kind, "user_id": user.id, **refs}, max_attempts=8)
    return True


async def approval_waiting(session: AsyncSession, config: Config, post: Post, submitter: User) -> int:
    """Tells the account's other editors that a post (or an edit) waits for their approval."""
    if not config.mail.enabled:
        return 0
    query = (select(User).join(UserActor, UserActor.user_id == User.id)
             .where(UserActor.actor_id == post.actor_id, User.disabled.is_(False),
                    User.role.in_((Role.EDITOR, Role.ADMIN)), User.email.is_not(None)).order_by(User.id))
    if submitter.id is not None:  # the feed importer is no stored user: every editor is "another" one
        query = query.where(User.id != submitter.id)
    # A system submitter is named by its name ("system:feed-import"); a person only by id.
    by = {"by": submitter.id} if submitter.id is not None else {"by_system": submitter.name}
    sent = 0
    for colleague in (await session.scalars(query)).all():
        sent += await queue_mail(session, config, APPROVAL_WAITING, colleague, post_id=post.id, **by)
    return sent


async def post_returned(session: AsyncSession, config: Config, post: Post, author_id: int | None,
                        reviewer: User, edit_id: int | None = None) -> bool:
    """Tells the author that their post (or their edit, `edit_id`) came back with a comment."""
    author = await session.get(User, author_id) if author_id is not None else None
    if author is None or author.id == reviewer.id:
        return False
    return await queue_mail(session, config, POST_RETURNED, author, post_id=post.id, by=reviewer.id,
                            edit_id=edit_id)


async def reset_link(session: AsyncSession, config: Config, user: User, reset: PasswordReset) -> bool:
    return await queue_mail(session, config, PASSWORD_RESET, user, reset_id=reset.id)


async def welcome(session: AsyncSession, config: Config, user: User) -> bool:
    """Tells a new user their user name and where to sign in; the password never goes by mail (the admin
    hands over the one-time password, or the user asks for a password link with the address mailed to)."""
    return await queue_mail(session, config, WELCOME, user)
