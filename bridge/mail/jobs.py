"""The mail jobs: writing and sending one message (retried by the queue while the SMTP server is away), and
the daily reply digest, which counts new replies per account for each user who asked for it.

The message is written from the database when it is sent, in the recipient's language. No transaction is
open while the SMTP server answers: on SQLite an open write would hold up every other writer.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.auth.passwords import link_token
from bridge.auth.users import user_ref
from bridge.config.model import Config
from bridge.mail import messages, notices, texts, transport
from bridge.queue import jobs
from bridge.queue.context import JobOutcome, JobStatus, WorkerContext
from bridge.runtime.secrets import load_or_create_secret
from bridge.store.db import utcnow
from bridge.store.models import Job, PasswordReset, Post, PostEdit, User
from consent.audit import Action, Event, Outcome, record
from consent.models import Reply

log = logging.getLogger("stadtbote.mail")

DIGEST_JOB = "reply_digest"
DIGEST_INTERVAL = timedelta(days=1)


class MailReason(enum.StrEnum):
    NOT_CONFIGURED = "mail_not_configured"  # [mail] was removed while the message waited
    NO_RECIPIENT = "no_recipient"  # the user is gone, disabled, or has no address any more
    OUTDATED = "outdated"  # the link expired or was used, or the post is gone: nothing worth sending
    DIGEST_SENT = "digest_sent"

    @property
    def description(self) -> str:
        return {MailReason.NOT_CONFIGURED: "no [mail] smtp_url is configured any more",
                MailReason.NO_RECIPIENT: "the recipient is gone, disabled or has no e-mail address",
                MailReason.OUTDATED: "what the mail was about no longer holds (link used or expired, post gone)",
                MailReason.DIGEST_SENT: "the reply digests were queued (detail: how many)"}[self]


async def handle_mail(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    payload = job.payload
    if not ctx.config.mail.enabled:
        return JobOutcome(JobStatus.DONE, MailReason.NOT_CONFIGURED)
    user = await session.get(User, int(payload["user_id"]))
    if user is None or user.disabled or not user.email:
        return JobOutcome(JobStatus.DONE, MailReason.NO_RECIPIENT)
    values = await _values(ctx.config, session, payload, user)
    if values is None:
        return JobOutcome(JobStatus.DONE, MailReason.OUTDATED)
    language = messages.language_of(ctx.config, user.language)
    message = messages.build(ctx.config, payload["kind"], user.email, language, **values)
    recipient = user_ref(user)
    await session.commit()
    reason = await transport.send(ctx.config.mail, message)
    log.info("mail %s job=%s to=%s: %s", payload["kind"], job.id, recipient, reason)
    if reason is transport.SendReason.SENT or not reason.retry or job.attempts >= job.max_attempts:
        await record(session, Event(Action.MAIL_SENT if reason is transport.SendReason.SENT else Action.MAIL_FAILED,
                                    "system", "system",
                                    Outcome.OK if reason is transport.SendReason.SENT else Outcome.FAILED,
                                    subject_ref=recipient, reason=None if reason is transport.SendReason.SENT
                                    else str(reason), details={"kind": payload["kind"]}))
    if reason is transport.SendReason.SENT:
        return JobOutcome(JobStatus.DONE, reason)
    return JobOutcome(JobStatus.RETRY if reason.retry else JobStatus.FAILED, reason)


async def _values(config: Config, session: AsyncSession, payload: dict, user: User) -> dict | None:
    """What the message says, or None when it is outdated."""
    base = config.instance.base_url
    kind = payload["kind"]
    if kind == notices.PASSWORD_RESET:
        reset = await session.get(PasswordReset, int(payload["reset_id"]))
        if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
            return None
        token = link_token(load_or_create_secret(config.instance.data_dir), reset)
        return {"name": user.name, "link": f"{base}/signin/reset/{token}"}
    if kind == notices.WELCOME:
        return {"name": user.name, "signin": f"{base}/signin", "forgot": f"{base}/signin/forgot"}
    if kind == notices.REPLY_DIGEST:
        lines = [texts.text(kind, messages.language_of(config, user.language), "line", actor=row["actor"],
                               count=row["count"], link=f"{base}/editor/actors/{row['actor']}/replies")
                 for row in payload["accounts"]]
        return {"lines": "\n".join(lines), "settings": f"{base}/password"}
    post = await session.get(Post, int(payload["post_id"]))
    if post is None:
        return None
    by = await session.get(User, int(payload["by"])) if payload.get("by") else None
    link = f"{base}/editor/posts/{post.id}"
    if kind == notices.APPROVAL_WAITING:
        return {"actor": post.actor.name, "author": by.name if by else payload.get("by_system", "?"), "link": link}
    edit = await session.get(PostEdit, int(payload["edit_id"])) if payload.get("edit_id") else None
    comment = (edit.review_comment if edit is not None else post.review_comment) or "–"
    return {"actor": post.actor.name, "reviewer": by.name if by else "?", "comment": comment, "link": link}


async def ensure_digest_job(session: AsyncSession, config: Config) -> bool:
    if not config.mail.enabled:
        return False
    return await jobs.schedule_once(session, DIGEST_JOB, utcnow())


async def queue_digests(session: AsyncSession, config: Config, now: datetime) -> int:
    """For each user who asked for the digest: the new replies per account of theirs since the last one."""
    readers = (await session.scalars(select(User).where(
        User.reply_digest.is_(True), User.disabled.is_(False), User.email.is_not(None)))).all()
    queued = 0
    for user in readers:
        since = user.digest_sent_at or now - DIGEST_INTERVAL
        names = sorted(a.name for a in user.actors)
        counts = dict((await session.execute(
            select(Reply.actor_name, func.count()).where(Reply.actor_name.in_(names), Reply.received_at > since,
                                                         Reply.received_at <= now)
            .group_by(Reply.actor_name))).all()) if names else {}
        accounts = [{"actor": name, "count": counts[name]} for name in names if counts.get(name)]
        user.digest_sent_at = now
        if accounts:
            queued += await notices.queue_mail(session, config, notices.REPLY_DIGEST, user, accounts=accounts)
    return queued


async def handle_digest(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    now = utcnow()
    queued = await queue_digests(session, ctx.config, now)
    await jobs.schedule_once(session, DIGEST_JOB, now + DIGEST_INTERVAL, except_job=job.id)
    return JobOutcome(JobStatus.DONE, MailReason.DIGEST_SENT, detail=str(queued))


def handlers() -> dict:
    return {notices.MAIL_JOB: handle_mail, DIGEST_JOB: handle_digest}
