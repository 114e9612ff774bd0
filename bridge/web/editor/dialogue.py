"""The dialogue desk (`/editor/dialogue`): every reply and mention across the accounts an editor may use, in
one list — open ones first, newest first — with the platform, how long the citizen has been waiting, the
state (open, answered, no answer needed, hidden), who handles it, a link to answer, the answer templates per
account, and per account the median and 90th percentile of the time to a first answer over 30 days.

It shows exactly what moderation shows (`moderation.rows.build_rows`): no more of a person than there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import and_, or_, select

from bridge.appkeys import CONFIG, FEDERATION, FORM, SESSIONS
from bridge.auth.users import allowed_actors, may_use_actor, user_ref
from bridge.store.db import utcnow
from bridge.store.dialogue import AnswerTemplate, AnswerTimes, Handling, ReplyHandling, answer_times, handling_of
from bridge.store.models import Role, User
from bridge.web.editor.dialogue_templates import BODY_LIMIT, PLACEHOLDERS, TITLE_LIMIT
from bridge.web.guards import require_user, row_id
from bridge.web.messages import N_, Problem, by_field
from bridge.web.moderation.access import load_reply
from bridge.web.moderation.rows import ReplyRow, build_rows, reply_query
from bridge.web.render import render
from consent.audit import Action, Event, record
from consent.models import Reply
from consent.moderation import ModerationState

EDITORS = (Role.ADMIN, Role.EDITOR)
PATH = "/editor/dialogue"
LIMIT = 200  # replies per page; "Older replies" leads to the next
PERIOD = timedelta(days=30)
HIDDEN = (ModerationState.HIDDEN, ModerationState.SPAM)
SHOWN = ("all", "open", "mine")
NOTICES = {
    "assigned": N_("The reply was assigned."),
    "unassigned": N_("Nobody is assigned to the reply any more."),
    "not_colleague": N_("This person may not work for the reply's account."),
    "handling": N_("The reply's state was changed."),
    "template_added": N_("The answer template was added."),
    "template_removed": N_("The answer template was removed."),
}
TITLE_MISSING = N_("Give the template a title.")
BODY_MISSING = N_("Write the template's text.")
TOO_LONG = N_("This is too long.")


@dataclass(frozen=True)
class DeskRow:
    reply: ReplyRow
    actor_name: str
    state: str  # open, answered, no_answer_needed, hidden
    assignee: User | None
    waiting_since: datetime | None  # only while open


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, desk, name="dialogue")
    app.router.add_post(PATH + "/{reply_id:\\d+}/assign", assign, name="dialogue_assign")
    app.router.add_post(PATH + "/{reply_id:\\d+}/handling", change_handling, name="dialogue_handling")
    app.router.add_post(PATH + "/templates", add_template, name="dialogue_template_add")
    app.router.add_post(PATH + "/templates/{template_id:\\d+}/delete", remove_template,
                        name="dialogue_template_remove")


def span(seconds: float | None) -> tuple[int, str] | None:
    """A duration as (number, unit) for the page: minutes below two hours, hours below two days, else days."""
    if seconds is None:
        return None
    if seconds < 7200:
        return int(seconds // 60), "minutes"
    if seconds < 172800:
        return int(seconds // 3600), "hours"
    return int(seconds // 86400), "days"


def state_of(reply_state: str, handling: ReplyHandling | None) -> str:
    if reply_state in HIDDEN:
        return "hidden"
    return str(handling.state) if handling is not None else str(Handling.OPEN)


async def colleagues(session, config, actor_names: list[str]) -> dict[str, list[User]]:
    """Per account, the active editors and administrators who may use it: whom a reply can be assigned to."""
    users = (await session.scalars(select(User).where(User.disabled.is_(False), User.role.in_(EDITORS))
                                   .order_by(User.name))).all()
    return {name: [u for u in users if may_use_actor(u, name)] for name in actor_names}


async def desk_rows(session, vault, actor_names: list[str], shown: str, user_id: int,
                    before: int | None = None) -> tuple[list[DeskRow], int | None]:
    """One page of the desk, newest first, and the cursor of the next (older) page if there is one: the id
    of the page's last reply. The filters are part of the query, so every page is full."""
    query = (reply_query().outerjoin(ReplyHandling, ReplyHandling.reply_id == Reply.id)
             .where(Reply.actor_name.in_(actor_names), Reply.state != ModerationState.DELETED))
    if shown == "open":
        query = query.where(Reply.state.not_in(HIDDEN),
                            or_(ReplyHandling.state.is_(None), ReplyHandling.state == Handling.OPEN))
    elif shown == "mine":
        query = query.where(ReplyHandling.assignee_id == user_id)
    cursor = await session.get(Reply, before) if before else None
    if cursor is not None:  # keyset: strictly after the cursor in the list's order (time, then id)
        query = query.where(or_(Reply.received_at < cursor.received_at,
                                and_(Reply.received_at == cursor.received_at, Reply.id < cursor.id)))
    rows = (await session.execute(query.order_by(Reply.received_at.desc(), Reply.id.desc())
                                  .limit(LIMIT + 1))).all()
    page, more = rows[:LIMIT], len(rows) > LIMIT
    return await _desk_rows(session, vault, page), (page[-1][0].id if more else None)


async def _desk_rows(session, vault, page) -> list[DeskRow]:
    built = {row.id: row for row in await build_rows(session, vault, page)}
    handlings = {h.reply_id: h for h in (await session.scalars(
        select(ReplyHandling).where(ReplyHandling.reply_id.in_(list(built))))).all()}
    people = {u.id: u for u in (await session.scalars(select(User).where(
        User.id.in_({h.assignee_id for h in handlings.values() if h.assignee_id})))).all()}
    rows = []
    for reply, _, _ in page:
        row = built.get(reply.id)
        if row is None:
            continue
        handling = handlings.get(reply.id)
        state = state_of(reply.state, handling)
        assignee = people.get(handling.assignee_id) if handling is not None and handling.assignee_id else None
        rows.append(DeskRow(row, reply.actor_name, state, assignee,
                            reply.received_at if state == Handling.OPEN else None))
    # Open first (the newest waiting on top), then the rest, newest first: the page is already by time.
    return [r for r in rows if r.state == Handling.OPEN] + [r for r in rows if r.state != Handling.OPEN]


async def desk(request: web.Request, problems: dict | None = None, typed: dict | None = None,
               status: int = 200) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    config = request.app[CONFIG]
    names = allowed_actors(config, user)
    shown = request.query.get("show", "all")
    shown = shown if shown in SHOWN else "all"
    async with request.app[SESSIONS]() as session:
        rows, older = await desk_rows(session, request.app[FEDERATION].vault, names, shown, user.id,
                                      row_id(request.query.get("before", "")))
        times = await answer_times(session, utcnow() - PERIOD)
        templates = (await session.scalars(select(AnswerTemplate).where(AnswerTemplate.actor_name.in_(names))
                                           .order_by(AnswerTemplate.actor_name, AnswerTemplate.title))).all()
        people = await colleagues(session, config, names)
    actors = [config.actor(n) for n in names]
    return render(request, "dialogue.html", {
        "rows": rows, "older": older, "shown": shown, "actors": actors, "people": people, "templates": templates,
        "times": {n: times.get(n, AnswerTimes(0, None, None, 0)) for n in names}, "now": utcnow(),
        "placeholders": PLACEHOLDERS, "span": span, "notice": NOTICES.get(request.query.get("notice", "")),
        "problems": problems or {}, "typed": typed or {}}, status=status)


def _back(notice: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PATH}?notice={notice}")


async def assign(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    form = request[FORM]
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        assignee_id = row_id(str(form.get("assignee", "")))
        assignee = await session.get(User, assignee_id) if assignee_id else None
        if assignee_id and (assignee is None or assignee.disabled or assignee.role not in EDITORS
                            or not may_use_actor(assignee, reply.actor_name)):
            raise _back("not_colleague")
        handling = await handling_of(session, reply.id, reply.actor_name, reply.received_at)
        handling.assignee_id, handling.updated_at = (assignee.id if assignee else None), utcnow()
        await record(session, Event(Action.REPLY_ASSIGNED, user.role, user_ref(user), purpose="moderation",
                                    details={"reply": reply.id, "actor": reply.actor_name,
                                             "assignee": user_ref(assignee) if assignee else None}))
        await session.commit()
    raise _back("assigned" if assignee else "unassigned")


async def change_handling(request: web.Request) -> web.StreamResponse:
    """Open again, or "no answer needed" (a thank-you, a statement): answered is set by answering."""
    user = require_user(request, roles=EDITORS)
    target = str(request[FORM].get("to", ""))
    if target not in (Handling.OPEN, Handling.NO_ANSWER_NEEDED):
        raise web.HTTPBadRequest(text=N_("Unknown state."))
    async with request.app[SESSIONS]() as session:
        reply = await load_reply(request, session, user)
        handling = await handling_of(session, reply.id, reply.actor_name, reply.received_at)
        if handling.first_answer_at is None or target == Handling.NO_ANSWER_NEEDED:
            handling.state = target
        handling.updated_at = utcnow()
        await record(session, Event(Action.REPLY_HANDLING, user.role, user_ref(user), purpose="moderation",
                                    details={"reply": reply.id, "actor": reply.actor_name, "to": target}))
        await session.commit()
    raise _back("handling")


async def add_template(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    form = request[FORM]
    config = request.app[CONFIG]
    typed = {k: str(form.get(k, "")) for k in ("actor", "title", "body")}
    if typed["actor"] not in allowed_actors(config, user):
        raise web.HTTPForbidden(text=N_("You may not work for this account."))
    found = []
    if not typed["title"].strip():
        found.append(Problem("title", TITLE_MISSING))
    elif len(typed["title"]) > TITLE_LIMIT:
        found.append(Problem("title", TOO_LONG))
    if not typed["body"].strip():
        found.append(Problem("body", BODY_MISSING))
    elif len(typed["body"]) > BODY_LIMIT:
        found.append(Problem("body", TOO_LONG))
    if found:
        return await desk(request, by_field(found), typed, status=422)
    async with request.app[SESSIONS].begin() as session:
        session.add(AnswerTemplate(actor_name=typed["actor"], title=typed["title"].strip(), body=typed["body"].strip(),
                                   created_at=utcnow()))
    raise _back("template_added")


async def remove_template(request: web.Request) -> web.StreamResponse:
    user = require_user(request, roles=EDITORS)
    async with request.app[SESSIONS].begin() as session:
        template_id = row_id(request.match_info["template_id"])
        template = await session.get(AnswerTemplate, template_id) if template_id else None
        if template is None:
            raise web.HTTPNotFound(text=N_("No such template."))
        if template.actor_name not in allowed_actors(request.app[CONFIG], user):
            raise web.HTTPForbidden(text=N_("You may not work for this account."))
        await session.delete(template)
    raise _back("template_removed")
