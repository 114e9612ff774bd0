"""Feed import: an account's existing RSS/Atom/JSON feed (e.g. press releases) polled into posts.

One `feed_poll` job per account re-enqueues itself every `[feeds] import_interval_minutes`. Each poll
is a conditional GET through the guarded client; new items (by GUID, remembered across restarts)
become posts through `posts.create_post`, so approval, limits and the audit apply as for any editor.
The first poll only remembers what is already there, unless `import_backfill = true`. A broken feed
is recorded with its reason for the editors' import page; the poll chain and the worker go on.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.guard import RequestFailed, Response
from bridge.queue import jobs
from bridge.config.model import Config
from bridge.store.db import utcnow
from bridge.publishing.hubping import HttpClient, guarded_client
from bridge.store.models import Actor, Job, JobState, User
from bridge.store.feeds import FeedImportState, ImportedItem
from bridge.publishing.posts import Draft, create_post
from bridge.publishing.profiles import locked_row, save_profile
from bridge.runtime.accounts import account_of
from bridge.convert.text import count_characters
from bridge.auth.users import SYSTEM_PREFIX, user_ref
from consent.audit import Action, Event, record
from feeds.items import ImportedItem as FeedItem
from feeds.importer import parse_feed
from feeds.posttext import PostText, TextFit, plain_text, shorten, to_post_text
from feeds.selection import select_new

POLL_JOB = "feed_poll"
IMPORTER = f"{SYSTEM_PREFIX}feed-import"  # the audit's actor_ref for posts made by the importer
MAX_FEED_BYTES = 5 * 1024 * 1024  # press feeds with full text can exceed the guard's 1 MiB default
MIN_SUMMARY = 20  # characters: less room than this, and the summary is left out rather than a stub
ACCEPT = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.1"


class PollReason(enum.StrEnum):
    POSTED = "posted"
    PRIMED = "primed"
    NOTHING_NEW = "nothing_new"
    NOT_MODIFIED = "not_modified"
    NOT_CONFIGURED = "not_configured"
    FETCH_FAILED = "fetch_failed"
    HTTP_ERROR = "http_error"
    FEED_BROKEN = "feed_broken"

    @property
    def description(self) -> str:
        return POLL_TEXT[self]


POLL_TEXT = {
    PollReason.POSTED: "new items of the feed were posted",
    PollReason.PRIMED: "first poll: the feed's items are remembered, none is posted",
    PollReason.NOTHING_NEW: "the feed has no new items",
    PollReason.NOT_MODIFIED: "the feed has not changed since the last poll",
    PollReason.NOT_CONFIGURED: "no import feed is configured for this account",
    PollReason.FETCH_FAILED: "the feed could not be fetched",
    PollReason.HTTP_ERROR: "the feed's server answered with an error status",
    PollReason.FEED_BROKEN: "the feed could not be read",
}


BROKEN = (PollReason.FETCH_FAILED, PollReason.HTTP_ERROR, PollReason.FEED_BROKEN)


@dataclass(frozen=True)
class PollResult:
    reason: PollReason
    description: str
    posted: int = 0

    @property
    def broken(self) -> bool:
        return self.reason in BROKEN


async def poll(config: Config, session: AsyncSession, actor_name: str, http: HttpClient,
               now: datetime | None = None) -> PollResult:
    """One poll of the account's feed; writes posts, remembered GUIDs and the state in `session`."""
    now = now or utcnow()
    actor_config = config.actor(actor_name)
    if actor_config is None or not actor_config.import_feed_url:
        return PollResult(PollReason.NOT_CONFIGURED, "no import_feed_url is configured for this account")
    if actor_config.import_paused or actor_config.retired:  # the chain ends; resuming starts it again
        return PollResult(PollReason.NOT_CONFIGURED, "the import of this account is paused")
    state = await _state(session, actor_name, actor_config.import_feed_url)
    answer = await http.request("GET", state.feed_url, headers=_conditional_headers(state),
                                max_body=MAX_FEED_BYTES)
    result = await _handle_answer(config, session, state, answer, now)
    _remember_outcome(state, result, now)
    return result


async def _state(session: AsyncSession, actor_name: str, url: str) -> FeedImportState:
    state = await session.get(FeedImportState, actor_name)
    if state is None:
        state = FeedImportState(actor_name=actor_name, feed_url=url, primed=False, consecutive_failures=0,
                                posts_created=0)
        session.add(state)
    elif state.feed_url != url:
        # Another feed: its old items are old news too, so it is primed afresh, never backfilled by accident.
        state.feed_url, state.etag, state.last_modified, state.primed = url, None, None, False
    return state


def _conditional_headers(state: FeedImportState) -> dict[str, str]:
    headers = {"Accept": ACCEPT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


async def _handle_answer(config: Config, session: AsyncSession, state: FeedImportState,
                         answer: Response | RequestFailed, now: datetime) -> PollResult:
    if isinstance(answer, RequestFailed):
        return PollResult(PollReason.FETCH_FAILED, f"{answer.reason}: {answer.description}")
    if answer.status == 304:
        return PollResult(PollReason.NOT_MODIFIED, "the feed has not changed since the last poll")
    if not 200 <= answer.status < 300:
        gone = " (the feed is gone)" if answer.status in (404, 410) else ""
        return PollResult(PollReason.HTTP_ERROR, f"the server answered HTTP {answer.status}{gone}")
    parsed = parse_feed(answer.body, answer.headers.get("Content-Type"), answer.url)
    if parsed.broken:
        return PollResult(PollReason.FEED_BROKEN, f"{parsed.reason}: {parsed.description}")
    # Validators are kept only for a feed that parsed, so a broken one is fetched in full next time.
    state.etag = _validator(answer.headers.get("ETag"), 200)
    state.last_modified = _validator(answer.headers.get("Last-Modified"), 64)
    return await _import(config, session, state, parsed.items, now)


async def _import(config: Config, session: AsyncSession, state: FeedImportState,
                  items: tuple[FeedItem, ...], now: datetime) -> PollResult:
    actor_config = config.actor(state.actor_name)
    seen = await _seen_guids(session, state.actor_name, items)
    selection = select_new(items, seen, first_poll=not state.primed, backfill=actor_config.import_backfill)
    post_ids, problems = await _post_items(config, session, state.actor_name, selection.new, now)
    for guid in selection.remember:
        session.add(ImportedItem(actor_name=state.actor_name, guid_sha256=_digest(guid),
                                 post_id=post_ids.get(guid), seen_at=now))
    first = not state.primed
    state.primed = True
    state.posts_created += len(post_ids)
    text = selection.description + (f"; not posted: {', '.join(problems)}" if problems else "")
    if post_ids:
        return PollResult(PollReason.POSTED, text, len(post_ids))
    return PollResult(PollReason.PRIMED if first else PollReason.NOTHING_NEW, text)


async def _seen_guids(session: AsyncSession, actor_name: str, items: tuple[FeedItem, ...]) -> set[str]:
    """The GUIDs of this document already stored; bounded by the document, not by the history."""
    by_digest = {_digest(i.guid): i.guid for i in items}
    found = await session.scalars(select(ImportedItem.guid_sha256).where(
        ImportedItem.actor_name == actor_name, ImportedItem.guid_sha256.in_(list(by_digest))))
    return {by_digest[d] for d in found.all()}


async def _post_items(config: Config, session: AsyncSession, actor_name: str, items: tuple[FeedItem, ...],
                      now: datetime) -> tuple[dict[str, int], list[str]]:
    if not items:
        return {}, []
    actor = await session.scalar(select(Actor).where(Actor.name == actor_name))
    importer = importer_user(actor)
    post_ids: dict[str, int] = {}
    problems: list[str] = []
    account = config.actor(actor_name)
    known = {p.id for p in config.platforms}
    mirrors = tuple(m for m in account.import_mirrors if m in known)  # a platform disconnected meanwhile: left out
    for item in items:
        text = item_text(item, config.limits.max_characters, with_summary=account.import_summary)
        draft = Draft(actor_name, text.text, via="feed-import", mirrors=mirrors)
        result = await create_post(session, config, importer, draft, now)
        if result.ok:
            post_ids[item.guid] = result.post.id
        else:
            problems.append(f"{result.reason} ({text.fit})")  # remembered anyway: it would fail every poll
    return post_ids, problems


def item_text(item: FeedItem, max_chars: int, *, with_summary: bool) -> PostText:
    """"title — link"; with the summary, "title", the summary (shortened to the room left) and the link."""
    text = to_post_text(item, max_chars, length=count_characters)
    summary = " ".join(plain_text(item.summary_html or "").split())
    if not with_summary or text.fit is not TextFit.FITS or not item.title or not item.link or not summary:
        return text
    title = " ".join(item.title.split())
    room = max_chars - count_characters(title) - count_characters(item.link) - 4  # two blank lines between
    short = shorten(summary, room, count_characters) if room >= MIN_SUMMARY else ""
    if not short or short == title:
        return text
    return PostText(f"{title}\n\n{short}\n\n{item.link}", text.fit, text.description)


def importer_user(actor: Actor) -> User:
    """An in-memory user that may post only as this account: posts get no author, the audit says
    "system:feed-import", and approval (four eyes) applies as for any editor's post."""
    return User(id=None, name=IMPORTER, role="system", password_hash="!", must_change_password=False,
                disabled=False, actors=[actor])


def _validator(value: str | None, limit: int) -> str | None:
    # A cut validator would never match; without one the next poll is simply unconditional.
    return value if value and len(value) <= limit else None


def _digest(guid: str) -> str:
    return hashlib.sha256(guid.encode("utf-8", "surrogatepass")).hexdigest()


def _remember_outcome(state: FeedImportState, result: PollResult, now: datetime) -> None:
    state.last_polled_at = now
    state.last_reason, state.last_description = str(result.reason), result.description[:2000]
    if result.broken:
        state.consecutive_failures += 1
    else:
        state.consecutive_failures, state.last_success_at = 0, now


async def poll_job(config: Config, session: AsyncSession, payload: dict, http: HttpClient | None,
                   job_id: int | None = None) -> PollResult:
    """Worker entry point: poll, then enqueue the next poll of this account (unless unconfigured)."""
    actor_name = str(payload.get("actor", ""))
    async with guarded_client(config, http) as client:
        result = await poll(config, session, actor_name, client)
    if result.reason is not PollReason.NOT_CONFIGURED:
        due = utcnow() + timedelta(minutes=config.feeds.import_interval_minutes)
        await schedule(session, actor_name, due, except_job=job_id)
    return result


async def schedule(session: AsyncSession, actor_name: str, run_at: datetime, except_job: int | None = None) -> bool:
    """Enqueue a poll unless one is already waiting or running (several processes may start at once)."""
    pending = await session.scalars(select(Job).where(
        Job.kind == POLL_JOB, Job.state.in_((JobState.QUEUED, JobState.RUNNING))))
    if any(j.payload.get("actor") == actor_name and j.id != except_job for j in pending.all()):
        return False
    await jobs.enqueue(session, POLL_JOB, {"actor": actor_name}, run_at=run_at, max_attempts=3)
    return True


async def ensure_polls(session: AsyncSession, config: Config) -> list[str]:
    """At start-up: every account with an import feed gets a poll now, if it has none pending."""
    started = []
    for actor in config.actors:
        if _polled(actor) and await schedule(session, actor.name, utcnow()):
            started.append(actor.name)
    return started


async def import_states(session: AsyncSession, config: Config) -> list[tuple[str, str, FeedImportState | None]]:
    """(account, configured URL, state) for every configured import, for the editors' page."""
    names = [a.name for a in config.actors if a.import_feed_url]
    found = {s.actor_name: s for s in (await session.scalars(
        select(FeedImportState).where(FeedImportState.actor_name.in_(names)))).all()}
    return [(a.name, a.import_feed_url, found.get(a.name)) for a in config.actors if a.import_feed_url]


def _polled(account) -> bool:
    return bool(account.import_feed_url) and not account.import_paused and not account.retired


async def import_state(session: AsyncSession, actor_name: str) -> FeedImportState | None:
    return await session.get(FeedImportState, actor_name)


class ImportChange(enum.StrEnum):
    """What became of an admin's change of an account's feed import (`change_import`)."""

    OK = "ok"
    NOT_FOUND = "not_found"
    URL_INVALID = "url_invalid"
    UNKNOWN_PLATFORM = "unknown_platform"
    NO_IMPORT = "no_import"
    UNKNOWN_ACTION = "unknown_action"

    @property
    def description(self) -> str:
        return IMPORT_CHANGE_TEXT[self]


IMPORT_CHANGE_TEXT = {
    ImportChange.OK: "done",
    ImportChange.NOT_FOUND: "no such account",
    ImportChange.URL_INVALID: "the feed address must start with https:// or http://",
    ImportChange.UNKNOWN_PLATFORM: "one of the chosen platforms is not connected",
    ImportChange.NO_IMPORT: "this account has no feed import",
    ImportChange.UNKNOWN_ACTION: "the form could not be read",
}
IMPORT_ACTIONS = {"save": Action.IMPORT_ADDED, "pause": Action.IMPORT_PAUSED, "resume": Action.IMPORT_RESUMED,
                  "remove": Action.IMPORT_REMOVED}


@dataclass(frozen=True)
class ImportForm:
    url: str = ""
    summary: bool = False  # each post carries the item's summary
    backfill: bool = False  # the first poll posts the items already in the feed
    mirrors: tuple[str, ...] = ()  # platform ids every imported post is mirrored to


@dataclass(frozen=True)
class ImportChangeResult:
    reason: ImportChange
    field: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is ImportChange.OK


async def change_import(session: AsyncSession, config: Config, name: str, action: str, form: ImportForm,
                        by: User) -> ImportChangeResult:
    """"save" (add or change), "pause", "resume" or "remove" the account's import, in the caller's transaction;
    the next poll starts at once where the import runs. Every change is an audit entry."""
    row = await locked_row(session, name)
    if row is None:
        return ImportChangeResult(ImportChange.NOT_FOUND)
    if action not in IMPORT_ACTIONS:
        return ImportChangeResult(ImportChange.UNKNOWN_ACTION)
    account = account_of(row)
    if action == "save":
        if not form.url.startswith(("https://", "http://")) or len(form.url) > 2000:
            return ImportChangeResult(ImportChange.URL_INVALID, "url")
        if any(m not in {p.id for p in config.platforms} for m in form.mirrors):
            return ImportChangeResult(ImportChange.UNKNOWN_PLATFORM, "mirror")
        account = dataclasses.replace(account, import_feed_url=form.url, import_summary=form.summary,
                                      import_backfill=form.backfill, import_mirrors=form.mirrors,
                                      import_paused=False)
    elif not account.import_feed_url:
        return ImportChangeResult(ImportChange.NO_IMPORT)
    elif action == "remove":
        account = dataclasses.replace(account, import_feed_url=None, import_paused=False, import_mirrors=())
    else:
        account = dataclasses.replace(account, import_paused=action == "pause")
    save_profile(row, account)
    await record(session, Event(IMPORT_ACTIONS[action], by.role, user_ref(by), subject_ref=f"actor:{name}",
                                details={"summary": account.import_summary, "mirrors": list(account.import_mirrors)}
                                if action == "save" else {}))
    if _polled(account):
        await schedule(session, name, utcnow())
    return ImportChangeResult(ImportChange.OK)
