"""The lane: CAP messages become posts, edits and unpins.

Each message is claimed first by its key (digest of sender + identifier) in `warning_message`, whose primary key
lets only one transaction have it: a repeated poll finds it seen, a restart finds it stored, and a second worker
importing the same message at the same moment fails its whole transaction (no post, no half post). The claim,
the posts, their jobs and the audit entry commit together.

- An Alert (or an Update whose references were never seen) at or above `min_severity` becomes one post per
  configured account, pinned, its jobs moved ahead of routine work (`queue.jobs.hurry_post`).
- An Update referring to a known message edits those posts (federated `Update`, platform edits).
- A Cancel or an all-clear edits them to say the warning is lifted and unpins them; so does a warning that
  vanished from a source listing every current warning. Expiry unpins.
- `mode = "draft"`: the posts and their edits wait in the approval queue; they are pinned once published."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.auth.users import SYSTEM_PREFIX
from bridge.config.model import SEVERITIES, Config, WarningSourceConfig
from bridge.delivery import jobs as delivery
from bridge.publishing.posts import Draft, create_post, edit_post
from bridge.queue import jobs
from bridge.store.models import Actor, Post, PostState, User
from bridge.store.warnings import OfficialWarning, WarningMessage, WarningPost
from bridge.warnings.cap import Info, Message, severity_rank
from bridge.warnings.reasons import WarningReason
from bridge.warnings.text import in_language, lifted_text, warning_text
from consent.audit import Action, Event, record

IMPORTER = f"{SYSTEM_PREFIX}warnings"  # the audit's actor_ref for what the lane does


class State:
    ACTIVE = "active"
    HELD = "held"  # waiting for approval (mode = "draft")
    LIFTED = "lifted"
    EXPIRED = "expired"


CURRENT = (State.ACTIVE, State.HELD)


@dataclass(frozen=True)
class Applied:
    reason: WarningReason
    warning: OfficialWarning | None = None


def message_key(sender: str, identifier: str) -> str:
    return hashlib.sha256(f"{sender}\x1f{identifier}".encode("utf-8", "surrogatepass")).hexdigest()


async def apply(session: AsyncSession, config: Config, source: WarningSourceConfig, message: Message,
                now: datetime) -> Applied:
    """One message of `source`; everything it changes is written in `session` (the caller commits)."""
    key = message_key(message.sender, message.identifier)
    if await session.get(WarningMessage, key) is not None:
        return Applied(WarningReason.SEEN)
    referenced = await _referenced(session, message)
    applied = await _decide(session, config, source, message, referenced, now)
    claim = WarningMessage(key_sha256=key, warning_id=applied.warning.id if applied.warning else None,
                           source_id=source.id, msg_type=message.msg_type, action=str(applied.reason), seen_at=now)
    session.add(claim)
    await session.flush()  # the claim: a second worker with the same message fails here, before its commit
    await record(session, Event(Action.WARNING_IMPORTED, "system", IMPORTER,
                                subject_ref=f"warning:{applied.warning.id}" if applied.warning else None,
                                reason=str(applied.reason),
                                details={"source": source.id, "sender": message.sender[:200],
                                         "identifier": message.identifier[:300], "msg_type": message.msg_type}))
    return applied


async def _referenced(session: AsyncSession, message: Message) -> OfficialWarning | None:
    keys = [message_key(sender, identifier) for sender, identifier in message.references]
    if not keys:
        return None
    warning_ids = (await session.scalars(select(WarningMessage.warning_id).where(
        WarningMessage.key_sha256.in_(keys), WarningMessage.warning_id.is_not(None)))).all()
    return await session.get(OfficialWarning, warning_ids[-1]) if warning_ids else None


async def _decide(session: AsyncSession, config: Config, source: WarningSourceConfig, message: Message,
                  referenced: OfficialWarning | None, now: datetime) -> Applied:
    if message.status != "Actual":
        return Applied(WarningReason.NOT_ACTUAL)
    info = message.info(source.languages)
    if message.all_clear:
        if referenced is None:
            return Applied(WarningReason.UNKNOWN_REFERENCES)
        await lift(session, config, source, referenced, now, message, info)
        return Applied(WarningReason.LIFTED, referenced)
    if info is None:
        return Applied(WarningReason.NO_INFO)
    if severity_rank(info.severity) < 0:
        return Applied(WarningReason.UNKNOWN_SEVERITY)
    if referenced is not None and referenced.state not in (State.LIFTED, State.EXPIRED):
        await _update(session, config, source, referenced, message, info, now)
        return Applied(WarningReason.UPDATED, referenced)
    if info.expires is not None and info.expires <= now:
        return Applied(WarningReason.ALREADY_EXPIRED)
    if severity_rank(info.severity) < SEVERITIES.index(source.min_severity):
        return Applied(WarningReason.BELOW_SEVERITY)
    warning = await _post(session, config, source, message, info, now)
    if warning is None:
        return Applied(WarningReason.POST_REFUSED)
    if message.references and referenced is None:  # the update of a warning never seen is still a warning
        return Applied(WarningReason.UNKNOWN_REFERENCES, warning)
    return Applied(WarningReason.HELD if warning.state == State.HELD else WarningReason.POSTED, warning)


def stored_fields(message: Message, info: Info, languages: tuple[str, ...]) -> dict:
    """The CAP fields kept with a warning: shown on its page, served as CAP, the source of its posts' text."""
    infos = [info] + [i for i in message.infos if i is not info and i.language.split("-")[0].lower() in languages]
    fields = {"identifier": message.identifier, "sender": message.sender, "sent": message.sent.isoformat(),
              "status": message.status, "msgType": message.msg_type, "scope": message.scope,
              "references": " ".join(f"{s},{i}" for s, i in message.references),
              "infos": [_info_fields(i) for i in infos]}
    return {**fields, **fields["infos"][0]}


def _info_fields(info: Info) -> dict:
    def iso(moment: datetime | None) -> str:
        return moment.isoformat() if moment else ""

    return {"language": info.language, "category": info.category or "Other", "event": info.event,
            "responseType": info.response_type, "urgency": info.urgency, "severity": info.severity,
            "certainty": info.certainty, "effective": iso(info.effective), "onset": iso(info.onset),
            "expires": iso(info.expires), "senderName": info.sender_name, "headline": info.headline,
            "description": info.description, "instruction": info.instruction, "web": info.web, "area": info.area}


def link(config: Config, warning: OfficialWarning) -> str:
    return f"{config.instance.base_url}/warnings/{warning.id}"


def _config_for(config: Config, source: WarningSourceConfig) -> Config:
    """`mode = "draft"`: the source's accounts need approval for these posts and their edits."""
    if source.mode != "draft":
        return config
    return config.with_actors(tuple(replace(a, require_approval=True) if a.name in source.actors else a
                                   for a in config.actors))


async def _post(session: AsyncSession, config: Config, source: WarningSourceConfig, message: Message, info: Info,
                now: datetime) -> OfficialWarning | None:
    warning = OfficialWarning(source_id=source.id, sender=message.sender, identifier=message.identifier,
                              state=State.ACTIVE, msg_type=message.msg_type, severity=info.severity,
                              event=info.event[:200] or "Warnung", headline=(info.headline or info.event)[:500],
                              sent=message.sent, expires=info.expires,
                              fields=stored_fields(message, info, source.languages), post_ids=[],
                              created_at=now, updated_at=now)
    session.add(warning)
    await session.flush()  # its id is in the posts' link
    texts = _warning_texts(config, source, warning)
    effective = _config_for(config, source)
    for name in source.actors:
        actor = await session.scalar(select(Actor).where(Actor.name == name))
        if actor is None:
            continue
        result = await create_post(session, effective, _importer(actor), Draft(name, texts["de"], language="de",
                                                                                via="warnings"), now)
        if not result.ok:
            continue
        result.post.translations = _translations(texts)
        warning.post_ids = [*warning.post_ids, result.post.id]
        if warning.id is None:
            await session.flush()
        session.add(WarningPost(post_id=result.post.id, warning_id=warning.id))
        await _pin(session, result.post, True)
    if not warning.post_ids:
        await session.delete(warning)
        return None
    posts = await _posts(session, warning)
    if all(p.state != PostState.PUBLISHED for p in posts):
        warning.state = State.HELD
    return warning


async def _update(session: AsyncSession, config: Config, source: WarningSourceConfig, warning: OfficialWarning,
                  message: Message, info: Info, now: datetime) -> None:
    warning.identifier, warning.msg_type, warning.sent = message.identifier, message.msg_type, message.sent
    warning.severity, warning.expires = info.severity, info.expires
    warning.event, warning.headline = info.event[:200] or warning.event, (info.headline or info.event)[:500]
    warning.fields, warning.updated_at = stored_fields(message, info, source.languages), now
    await _edit(session, _config_for(config, source), warning, _warning_texts(config, source, warning), now)


async def lift(session: AsyncSession, config: Config, source: WarningSourceConfig, warning: OfficialWarning,
               now: datetime, message: Message | None = None, info: Info | None = None) -> None:
    """The danger is over: the posts say so and are unpinned (a Cancel, an all-clear, gone from the source)."""
    if warning.state in (State.LIFTED, State.EXPIRED):
        return
    fields = dict(warning.fields)
    if message is not None:
        fields.update({"identifier": message.identifier, "sent": message.sent.isoformat(),
                       "msgType": message.msg_type,
                       "references": " ".join(f"{s},{i}" for s, i in message.references)})
        warning.identifier, warning.msg_type, warning.sent = message.identifier, message.msg_type, message.sent
    if info is not None and info.description:
        fields["liftedDescription"] = info.description
    warning.fields, warning.state, warning.updated_at = fields, State.LIFTED, now
    texts = {"de": lifted_text(fields, link(config, warning), config.tz, now, config.limits.max_characters)}
    english = in_language(fields, "en") if "en" in source.languages else None
    if english is not None:
        texts["en"] = lifted_text({**english, "liftedDescription": ""}, link(config, warning), config.tz, now,
                                  config.limits.max_characters, "en")
    await _edit(session, _config_for(config, source), warning, texts, now)
    for post in await _posts(session, warning):
        await _pin(session, post, False)


async def expire(session: AsyncSession, source: WarningSourceConfig, now: datetime) -> int:
    """Warnings past their `expires` are unpinned and no longer current."""
    due = (await session.scalars(select(OfficialWarning).where(
        OfficialWarning.source_id == source.id, OfficialWarning.state.in_(CURRENT),
        OfficialWarning.expires.is_not(None), OfficialWarning.expires <= now))).all()
    for warning in due:
        warning.state, warning.updated_at = State.EXPIRED, now
        for post in await _posts(session, warning):
            await _pin(session, post, False)
        await record(session, Event(Action.WARNING_IMPORTED, "system", IMPORTER, subject_ref=f"warning:{warning.id}",
                                    reason=str(WarningReason.EXPIRED), details={"source": source.id}))
    return len(due)


async def lift_missing(session: AsyncSession, config: Config, source: WarningSourceConfig, listed: set[str],
                       now: datetime) -> int:
    """A source that lists every current warning no longer lists these: they ended without a Cancel."""
    current = (await session.scalars(select(OfficialWarning).where(
        OfficialWarning.source_id == source.id, OfficialWarning.state.in_(CURRENT)))).all()
    gone = [w for w in current if message_key(w.sender, w.identifier) not in listed]
    for warning in gone:
        await lift(session, config, source, warning, now)
        await record(session, Event(Action.WARNING_IMPORTED, "system", IMPORTER, subject_ref=f"warning:{warning.id}",
                                    reason=str(WarningReason.LIFTED), details={"source": source.id}))
    return len(gone)


async def pin_approved(session: AsyncSession, source: WarningSourceConfig) -> int:
    """Held warnings whose posts an editor has approved meanwhile: now active, their posts pinned."""
    held = (await session.scalars(select(OfficialWarning).where(
        OfficialWarning.source_id == source.id, OfficialWarning.state == State.HELD))).all()
    pinned = 0
    for warning in held:
        posts = await _posts(session, warning)
        if any(p.state == PostState.PUBLISHED for p in posts):
            warning.state = State.ACTIVE
            for post in posts:
                pinned += await _pin(session, post, True)
    return pinned


def _warning_texts(config: Config, source: WarningSourceConfig, warning: OfficialWarning) -> dict[str, str]:
    """The post's German text and, where the source has English and `languages` keeps it, the English one."""
    url, limit = link(config, warning), config.limits.max_characters
    texts = {"de": warning_text(warning.fields, url, config.tz, limit)}
    english = in_language(warning.fields, "en") if "en" in source.languages else None
    if english is not None:
        texts["en"] = warning_text(english, url, config.tz, limit, "en")
    return texts


def _translations(texts: dict[str, str]) -> dict[str, str] | None:
    return {language: text for language, text in texts.items() if language != "de"} or None


async def _edit(session: AsyncSession, config: Config, warning: OfficialWarning, texts: dict[str, str],
                now: datetime) -> None:
    for post in await _posts(session, warning):
        if post.state in (PostState.DELETED, PostState.FAILED) or post.text == texts["de"]:
            continue
        await edit_post(session, config, _importer(post.actor), post,
                        Draft(post.actor.name, texts["de"], language="de", via="warnings"), now)
        if post.text == texts["de"]:  # applied now, not waiting for approval: the English follows it
            post.translations = _translations(texts)
        await jobs.hurry_post(session, post.id)


async def _pin(session: AsyncSession, post: Post, pinned: bool) -> int:
    """Pins or unpins a published post and tells followers' servers (Add/Remove on the featured collection)."""
    if post.state != PostState.PUBLISHED or post.pinned == pinned:
        return 0
    post.pinned = pinned
    await delivery.enqueue_fanout(session, post, delivery.Verb.PIN if pinned else delivery.Verb.UNPIN)
    await jobs.hurry_post(session, post.id)
    return 1


async def _posts(session: AsyncSession, warning: OfficialWarning) -> list[Post]:
    if not warning.post_ids:
        return []
    return list((await session.scalars(select(Post).where(Post.id.in_(warning.post_ids)))).all())


def _importer(actor: Actor) -> User:
    """An in-memory user that may post only as this account; the audit says "system:warnings"."""
    return User(id=None, name=IMPORTER, role="system", password_hash="!", must_change_password=False,
                disabled=False, actors=[actor])


async def current_warnings(session: AsyncSession, limit: int = 50) -> list[OfficialWarning]:
    return list((await session.scalars(select(OfficialWarning).order_by(
        OfficialWarning.updated_at.desc(), OfficialWarning.id.desc()).limit(limit))).all())


async def warning_of_post(session: AsyncSession, post_id: int) -> OfficialWarning | None:
    """The warning a post was made for, if any (its permalink shows the CAP fields): one lookup by key."""
    return await session.scalar(select(OfficialWarning).join(WarningPost, WarningPost.warning_id == OfficialWarning.id)
                                .where(WarningPost.post_id == post_id))
