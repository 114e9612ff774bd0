"""The authority's accounts as an admin changes them in the browser (issue 19): create, edit the profile,
retire (optionally moved to another account of the instance). The rules live only here; every change is an
audit entry, raises the row's `profile_version` (so every process reloads it, `bridge.runtime.accounts`) and
tells followers' servers (an `Update` of the actor; a `Move` when a retired account went elsewhere)."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import io
import logging
import secrets
import warnings
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub import vocab
from activitypub.keys import generate_keypair
from activitypub.uris import INSTANCE_ACTOR_NAME
from bridge.auth.users import user_ref
from bridge.config.model import ACTOR_NAME, LANGUAGES, QUOTE_POLICIES, ActorConfig, Config, LimitsConfig
from bridge.convert.images import MediaReason, process_image
from bridge.delivery.jobs import enqueue_actor_update, send_to_followers
from bridge.publishing.uploads import IMAGE_WORK
from bridge.queue import jobs
from bridge.queue.context import JobOutcome, WorkerContext
from bridge.runtime.accounts import FROM_FILE, account_of, profile_of
from bridge.runtime.media_storage import StorageError, media_key, media_storage
from bridge.store.db import utcnow
from bridge.store.models import Actor, Job, Role, User, UserActor
from consent.audit import Action, Event, record

MOVE_JOB = "actor_move"
MAX_FIELDS = 4  # Mastodon shows four profile fields
MAX_DISPLAY_NAME = 100
log = logging.getLogger("stadtbote.profiles")

MAX_BIO = 500
MAX_FIELD_NAME = 255
MAX_FIELD_VALUE = 255
AVATAR_BOX = (400, 400)  # Mastodon shows avatars at 400×400 at most
HEADER_BOX = (1500, 500)  # and header images at 1500×500
# Who changes a profile: admins, in the browser (/admin/accounts) and from an app (update_credentials) alike.
PROFILE_EDITORS = (Role.ADMIN,)


class ProfileReason(enum.StrEnum):
    OK = "ok"
    NAME_INVALID = "name_invalid"
    NAME_TAKEN = "name_taken"
    NAME_RETIRED = "name_retired"
    DISPLAY_NAME_MISSING = "display_name_missing"
    DISPLAY_NAME_TOO_LONG = "display_name_too_long"
    BIO_TOO_LONG = "bio_too_long"
    FIELD_INCOMPLETE = "field_incomplete"
    FIELD_TOO_LONG = "field_too_long"
    WEBSITE_INVALID = "website_invalid"
    QUOTE_POLICY_INVALID = "quote_policy_invalid"
    LANGUAGE_INVALID = "language_invalid"
    EDITOR_UNKNOWN = "editor_unknown"
    IMAGE_REFUSED = "image_refused"
    NOT_FOUND = "not_found"
    ALREADY_RETIRED = "already_retired"
    MOVE_TARGET_INVALID = "move_target_invalid"
    FIELDS_TOO_MANY = "fields_too_many"
    NOT_ALLOWED = "not_allowed"
    ACCOUNT_RETIRED = "account_retired"

    @property
    def description(self) -> str:
        return PROFILE_TEXT[self]


PROFILE_TEXT = {
    ProfileReason.OK: "done",
    ProfileReason.NAME_INVALID: "use 1 to 30 lowercase letters, digits or underscores",
    ProfileReason.NAME_TAKEN: "an account with this name exists already",
    ProfileReason.NAME_RETIRED: "this name belonged to a retired account and cannot be used again",
    ProfileReason.DISPLAY_NAME_MISSING: "give the account a display name",
    ProfileReason.DISPLAY_NAME_TOO_LONG: "the display name may have at most 100 characters",
    ProfileReason.BIO_TOO_LONG: "the description may have at most 500 characters",
    ProfileReason.FIELD_INCOMPLETE: "a profile field with a content needs a label",
    ProfileReason.FIELD_TOO_LONG: "labels and contents of profile fields may have at most 255 characters",
    ProfileReason.WEBSITE_INVALID: "the website must be an address starting with https:// or http://",
    ProfileReason.QUOTE_POLICY_INVALID: "choose who may quote the account's posts",
    ProfileReason.LANGUAGE_INVALID: "choose German or English",
    ProfileReason.EDITOR_UNKNOWN: "one of the chosen editors does not exist",
    ProfileReason.IMAGE_REFUSED: "the image was refused",
    ProfileReason.NOT_FOUND: "no such account",
    ProfileReason.ALREADY_RETIRED: "the account is retired already",
    ProfileReason.MOVE_TARGET_INVALID: "choose another account of this instance that is not retired",
    ProfileReason.FIELDS_TOO_MANY: f"an account has at most {MAX_FIELDS} profile fields",
    ProfileReason.NOT_ALLOWED: "only administrators change an account's profile",
    ProfileReason.ACCOUNT_RETIRED: "the account is retired: apps change nothing of it; administrators "
                                   "correct its profile in the browser",
}


@dataclass(frozen=True)
class ProfileForm:
    """What an admin typed; kept as typed, so a form with a problem comes back as it was."""

    name: str = ""
    display_name: str = ""
    summary: str = ""
    website: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    require_approval: bool = False
    indexable: bool = True
    quote_policy: str = "public"
    language: str = "de"
    editors: tuple[int, ...] = ()
    avatar: bytes | None = None  # a new picture, as uploaded
    header: bytes | None = None

    @classmethod
    def of(cls, account: ActorConfig, editors: tuple[int, ...]) -> ProfileForm:
        return cls(account.name, account.display_name, account.summary, account.website or "", account.fields,
                   account.require_approval, account.indexable, account.quote_policy, account.language, editors)


@dataclass(frozen=True)
class ProfileChange:
    """What an app sent (Mastodon's `update_credentials`): only the values given change, the rest stays."""

    display_name: str | None = None
    summary: str | None = None
    fields: tuple[tuple[str, str], ...] | None = None
    language: str | None = None
    avatar: bytes | None = None
    header: bytes | None = None


@dataclass(frozen=True)
class ProfileResult:
    reason: ProfileReason
    problems: dict[str, ProfileReason] = field(default_factory=dict)  # field name → reason
    image_reasons: dict[str, MediaReason] = field(default_factory=dict)  # "avatar"/"header" → why refused
    # The files of pictures the change replaced: deleted by `drop_superseded` once the change is committed
    # (before, a rollback would leave the profile naming a file that is gone).
    superseded: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.reason is ProfileReason.OK


@dataclass(frozen=True)
class ProfileImages:
    """Pictures accepted for a profile: the names of the files written among the media."""

    avatar_file: str | None = None
    header_file: str | None = None


def check_form(form: ProfileForm, *, new: bool) -> dict[str, ProfileReason]:
    """Every problem of the form at once, by field (the name only when the account is new)."""
    problems: dict[str, ProfileReason] = {}
    if new and (not ACTOR_NAME.match(form.name) or form.name == INSTANCE_ACTOR_NAME):
        problems["name"] = ProfileReason.NAME_INVALID
    if not form.display_name.strip():
        problems["display_name"] = ProfileReason.DISPLAY_NAME_MISSING
    elif len(form.display_name) > MAX_DISPLAY_NAME:
        problems["display_name"] = ProfileReason.DISPLAY_NAME_TOO_LONG
    if len(form.summary) > MAX_BIO:
        problems["summary"] = ProfileReason.BIO_TOO_LONG
    if form.website and not form.website.startswith(("https://", "http://")):
        problems["website"] = ProfileReason.WEBSITE_INVALID
    if len(form.fields) > MAX_FIELDS:  # the browser has four slots; an app may send more
        problems["fields"] = ProfileReason.FIELDS_TOO_MANY
    for i, (label, value) in enumerate(form.fields):
        if value.strip() and not label.strip():  # a label without content is a slot left empty: dropped
            problems[f"field{i}"] = ProfileReason.FIELD_INCOMPLETE
        elif len(label) > MAX_FIELD_NAME or len(value) > MAX_FIELD_VALUE:
            problems[f"field{i}"] = ProfileReason.FIELD_TOO_LONG
    if form.quote_policy not in QUOTE_POLICIES:
        problems["quote_policy"] = ProfileReason.QUOTE_POLICY_INVALID
    if form.language not in LANGUAGES:
        problems["language"] = ProfileReason.LANGUAGE_INVALID
    return problems


def fit_profile_image(raw: bytes, limits: LimitsConfig, box: tuple[int, int]) -> tuple[MediaReason, bytes]:
    """The picture within `box`, as a PNG without metadata; refused like a post's image (too large, more pixels
    than allowed — a decompression bomb — or no image). Decodes: run it off the event loop."""
    checked = process_image(raw, limits)  # the byte and pixel limits, before anything is decoded
    if not checked.ok:
        return checked.reason, b""
    # At the first picture, not at start (see `convert.images`).
    Image, ImageOps = importlib.import_module("PIL.Image"), importlib.import_module("PIL.ImageOps")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(checked.data)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail(box)
            out = io.BytesIO()
            image.convert("RGBA").save(out, "PNG", optimize=True)
    return MediaReason.OK, out.getvalue()


async def accept_images(config: Config, name: str, form: ProfileForm
                        ) -> tuple[ProfileImages, dict[str, MediaReason]]:
    """Checks and writes the uploaded pictures (into the media storage: data_dir or a bucket); the refused ones by
    field. Decoding runs in the bounded pool of post images, so a large or hostile picture never stalls the
    server."""
    written: dict[str, str] = {}
    refused: dict[str, MediaReason] = {}
    for kind, raw, box in (("avatar", form.avatar, AVATAR_BOX), ("header", form.header, HEADER_BOX)):
        if raw is None:
            continue
        reason, data = await IMAGE_WORK.run(fit_profile_image, raw, config.limits, box)
        if reason is not MediaReason.OK:
            refused[kind] = reason
            continue
        filename = f"{kind}-{name}-{secrets.token_hex(6)}.png"  # a new name per picture: caches see the change
        await media_storage(config).put(media_key(filename), data, "image/png")
        written[kind] = filename
    if refused:  # the form comes back: a picture accepted with it is uploaded again, this one is nobody's
        await _delete_quietly(config, [media_key(f) for f in written.values()])
        written = {}
    return ProfileImages(written.get("avatar"), written.get("header")), refused


async def drop_superseded(config: Config, result: ProfileResult) -> None:
    """Deletes the pictures a committed profile change replaced, from the local folder or the bucket."""
    await _delete_quietly(config, list(result.superseded))


async def _delete_quietly(config: Config, keys: list[str]) -> None:
    # The change itself stands: a storage away now leaves a stray file, logged, never an error page.
    try:
        await media_storage(config).delete(keys)
    except StorageError as exc:
        log.warning("profile pictures not deleted (%d): %s", len(keys), exc.check.reason)


async def _editor_ids(session: AsyncSession, ids: tuple[int, ...]) -> list[User] | None:
    if not ids:
        return []
    users = (await session.scalars(select(User).where(User.id.in_(ids)))).all()
    return list(users) if len(users) == len(set(ids)) else None


def _apply(account: ActorConfig, form: ProfileForm, images: ProfileImages) -> ActorConfig:
    return dataclasses.replace(
        account, display_name=form.display_name.strip(), summary=form.summary.strip(),
        website=form.website.strip() or None,
        fields=tuple((label.strip(), value.strip()) for label, value in form.fields if value.strip()),
        require_approval=form.require_approval, indexable=form.indexable, quote_policy=form.quote_policy,
        language=form.language, avatar_file=images.avatar_file or account.avatar_file,
        header_file=images.header_file or account.header_file,
        avatar=None if images.avatar_file else account.avatar)


async def _set_editors(session: AsyncSession, actor: Actor, editors: list[User]) -> None:
    await session.execute(delete(UserActor).where(UserActor.actor_id == actor.id))
    for user in editors:
        session.add(UserActor(user_id=user.id, actor_id=actor.id))


async def current_editors(session: AsyncSession, name: str) -> tuple[int, ...]:
    rows = await session.scalars(select(UserActor.user_id).join(Actor, Actor.id == UserActor.actor_id)
                                 .where(Actor.name == name))
    return tuple(rows.all())


async def create_account(session: AsyncSession, config: Config, form: ProfileForm, by: User) -> ProfileResult:
    problems = check_form(form, new=True)
    if "name" not in problems:
        existing = await session.scalar(select(Actor).where(Actor.name == form.name))
        if existing is not None:
            problems["name"] = (ProfileReason.NAME_RETIRED if existing.retired_at is not None
                                else ProfileReason.NAME_TAKEN)
    editors = await _editor_ids(session, form.editors)
    if editors is None:
        problems["editors"] = ProfileReason.EDITOR_UNKNOWN
    if problems:
        return ProfileResult(ProfileReason(next(iter(problems.values()))), problems)
    images, refused = await accept_images(config, form.name, form)
    if refused:
        return ProfileResult(ProfileReason.IMAGE_REFUSED, {k: ProfileReason.IMAGE_REFUSED for k in refused}, refused)
    account = _apply(ActorConfig(form.name, form.name, "", "Organization", False, None), form, images)
    keys = generate_keypair()
    actor = Actor(name=form.name, private_key_pem=keys.private_pem, public_key_pem=keys.public_pem,
                  profile=profile_of(account), profile_version=1)
    session.add(actor)
    await session.flush()
    await _set_editors(session, actor, editors or [])
    await record(session, Event(Action.ACTOR_CREATED, by.role, user_ref(by), subject_ref=f"actor:{form.name}",
                                details={"editors": [user_ref(u) for u in editors or []]}))
    await record(session, Event(Action.KEY_CREATED, by.role, user_ref(by), subject_ref=f"actor:{form.name}",
                                details={"algorithm": "rsa-2048"}))
    return ProfileResult(ProfileReason.OK)


async def locked_row(session: AsyncSession, name: str) -> Actor | None:
    if name == INSTANCE_ACTOR_NAME:
        return None
    return await session.scalar(select(Actor).where(Actor.name == name, Actor.profile.is_not(None))
                                .with_for_update())


def save_profile(actor: Actor, account: ActorConfig) -> None:
    """The browser's profile from now on: the file's entry for this account no longer applies."""
    actor.profile = {k: v for k, v in profile_of(account).items() if k != FROM_FILE}
    actor.profile_version = (actor.profile_version or 0) + 1


def may_edit_profile(user: User) -> bool:
    return user.role in PROFILE_EDITORS and not user.disabled


async def update_account(session: AsyncSession, config: Config, name: str, form: ProfileForm,
                         by: User, via: str | None = None) -> ProfileResult:
    """In the caller's transaction; the `Update` to followers' servers is queued in it too. `via` names the
    API token of a change from an app, for the audit entry."""
    if not may_edit_profile(by):
        return ProfileResult(ProfileReason.NOT_ALLOWED)
    actor = await locked_row(session, name)
    if actor is None:
        return ProfileResult(ProfileReason.NOT_FOUND)
    problems = check_form(form, new=False)
    editors = await _editor_ids(session, form.editors)
    if editors is None:
        problems["editors"] = ProfileReason.EDITOR_UNKNOWN
    if problems:
        return ProfileResult(ProfileReason(next(iter(problems.values()))), problems)
    images, refused = await accept_images(config, name, form)
    if refused:
        return ProfileResult(ProfileReason.IMAGE_REFUSED, {k: ProfileReason.IMAGE_REFUSED for k in refused}, refused)
    before = account_of(actor)
    after = _apply(before, form, images)
    save_profile(actor, after)
    await _set_editors(session, actor, editors or [])
    changed = sorted(k for k, v in profile_of(after).items() if profile_of(before).get(k) != v)
    await record(session, Event(Action.ACTOR_UPDATED, by.role, user_ref(by), subject_ref=f"actor:{name}",
                                details={"changed": changed, "editors": [user_ref(u) for u in editors or []]}
                                | ({"via": via} if via else {})))
    await enqueue_actor_update(session, name)
    replaced = (before.avatar_file if images.avatar_file else None, before.header_file if images.header_file else None)
    return ProfileResult(ProfileReason.OK, superseded=tuple(media_key(f) for f in replaced if f))


async def change_profile(session: AsyncSession, config: Config, name: str, change: ProfileChange,
                         by: User, via: str) -> ProfileResult:
    """An app's change of the account its token acts as: the admin form's rules and path (`update_account`),
    the values not sent kept as they are. A retired account takes nothing from apps, as it takes no posts."""
    if not may_edit_profile(by):
        return ProfileResult(ProfileReason.NOT_ALLOWED)
    actor = await locked_row(session, name)
    if actor is None:
        return ProfileResult(ProfileReason.NOT_FOUND)
    if actor.retired_at is not None:
        return ProfileResult(ProfileReason.ACCOUNT_RETIRED)
    current = ProfileForm.of(account_of(actor), await current_editors(session, name))
    sent = {f.name: getattr(change, f.name) for f in dataclasses.fields(change)}
    form = dataclasses.replace(current, **{k: v for k, v in sent.items() if v is not None})
    return await update_account(session, config, name, form, by, via)


async def retire_account(session: AsyncSession, config: Config, name: str, moved_to: str | None,
                         by: User, now: datetime | None = None) -> ProfileResult:
    """The account takes no more posts; its archive, feeds and WebFinger stay, its profile names where the
    department went. Followers get an `Update` (with `movedTo`) and, when it moved, a `Move`."""
    actor = await locked_row(session, name)
    if actor is None:
        return ProfileResult(ProfileReason.NOT_FOUND)
    if actor.retired_at is not None:
        return ProfileResult(ProfileReason.ALREADY_RETIRED)
    if moved_to:
        target = config.actor(moved_to)
        if target is None or target.retired or moved_to == name:
            return ProfileResult(ProfileReason.MOVE_TARGET_INVALID, {"moved_to": ProfileReason.MOVE_TARGET_INVALID})
    actor.retired_at = now or utcnow()
    save_profile(actor, dataclasses.replace(account_of(actor), moved_to=moved_to or None))
    await record(session, Event(Action.ACTOR_RETIRED, by.role, user_ref(by), subject_ref=f"actor:{name}",
                                details={"moved_to": moved_to or None}))
    await enqueue_actor_update(session, name)
    if moved_to:
        await jobs.enqueue(session, MOVE_JOB, {"actor": name, "target": moved_to},
                           ordering_key=f"actor_update|{name}")  # after the Update that carries movedTo
    return ProfileResult(ProfileReason.OK)


async def handle_move(ctx: WorkerContext, session: AsyncSession, job: Job) -> JobOutcome:
    """`Move` of a retired account to its successor, to one inbox per follower's server. Receivers check
    that the successor names the old account in `alsoKnownAs` (`bridge.convert.activitypub`)."""
    name, target = job.payload["actor"], job.payload["target"]
    uris = ctx.federation.uris
    document = vocab.with_context({
        "id": f"{uris.actor(name)}#moves/{int(utcnow().timestamp())}", "type": "Move",
        "actor": uris.actor(name), "object": uris.actor(name), "target": uris.actor(target),
        "to": [uris.followers(name)]})
    outcome = await send_to_followers(ctx, session, name, document)
    await record(session, Event(Action.ACTOR_MOVED, "system", "system", subject_ref=f"actor:{name}",
                                details={"target": f"actor:{target}"}))
    return outcome


def handlers() -> dict:
    return {MOVE_JOB: handle_move}
