"""The DPO's rights actions: look a person up and export what is stored (Art. 15), erase them after a
confirmation step (Art. 17), record an objection (Art. 21), and track requests with their one-month
deadline (Art. 12(3)). Every action is a POST with the CSRF token, so identifiers never sit in URLs."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Callable

from aiohttp import web

from bridge.appkeys import CONFIG, FEDERATION, FORM, SESSIONS
from bridge.store.db import utcnow
from bridge.store.models import User
from bridge.privacy.rights import erase_person, export_person, object_person, signer_for
from bridge.auth.users import user_ref
from bridge.web.dpo import receipts
from bridge.web.guards import int_param
from bridge.web.messages import N_
from bridge.web.render import render
from consent.audit import Action, Event, record
from consent.models_privacy import RightsRequest
from consent.requests import RequestKind, close_request, is_overdue, list_requests, open_request
from consent.rights import find_person

Guard = Callable[[web.Request], User]
_GUARD = web.AppKey("dpo_guard", object)
PROBLEMS = {
    "unknown_subject": N_("No data is stored about this person (unknown identifier)."),
    "already_erased": N_("This person was erased before; only the pseudonym remains."),
    "invalid": N_("Enter an actor URI, a handle like @name@example.org or a platform id."),
}


def _user(request: web.Request) -> User:
    return request.app[_GUARD](request)


def _by(user: User) -> tuple[str, str]:
    return user.role, user_ref(user)


async def _identifier(request: web.Request) -> str:
    return str(request[FORM].get("identifier", "")).strip()


async def subject_form(request: web.Request) -> web.StreamResponse:
    _user(request)
    return render(request, "dpo_subject.html", {"identifier": "", "problem": None, "doc": None})


async def subject_lookup(request: web.Request) -> web.StreamResponse:
    """Shows the access export as a page, or (format=json) hands it over as the JSON document."""
    user = _user(request)
    form = request[FORM]
    identifier = str(form.get("identifier", "")).strip()
    async with request.app[SESSIONS].begin() as session:
        result = await export_person(session, request.app[FEDERATION].vault, request.app[CONFIG], identifier,
                                     _by(user))
    if not result.ok:
        return render(request, "dpo_subject.html", {"identifier": identifier, "doc": None,
                                                    "problem": PROBLEMS[str(result.reason)]}, status=404)
    if form.get("format") == "json":
        body = json.dumps(result.document, ensure_ascii=False, indent=2)
        return web.Response(text=body, content_type="application/json", headers={
            "Content-Disposition": 'attachment; filename="subject-export.json"', "Cache-Control": "no-store"})
    return render(request, "dpo_subject.html", {"identifier": identifier, "doc": result.document, "problem": None})


async def subject_erase(request: web.Request) -> web.StreamResponse:
    """First POST: a confirmation page. Second POST with confirm=yes: the erasure, then its receipt."""
    user = _user(request)
    form = request[FORM]
    identifier = str(form.get("identifier", "")).strip()
    if form.get("confirm") != "yes":
        return render(request, "dpo_erase.html", {"identifier": identifier, "problem": None})
    result = await erase_person(request.app[SESSIONS], request.app[FEDERATION].vault,
                                signer_for(request.app[CONFIG]), identifier, _by(user))
    if not result.ok:
        return render(request, "dpo_erase.html", {"identifier": identifier,
                                                  "problem": PROBLEMS[str(result.reason)]}, status=404)
    raise web.HTTPSeeOther(receipts.receipt_path(result.document["index"]))  # a reload erases nothing twice


async def subject_object(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    identifier = await _identifier(request)
    try:
        async with request.app[SESSIONS].begin() as session:
            result = await object_person(session, request.app[FEDERATION].vault, identifier, _by(user))
    except ValueError:
        return render(request, "dpo_subject.html", {"identifier": identifier, "doc": None,
                                                    "problem": PROBLEMS["invalid"]}, status=422)
    return render(request, "dpo_subject.html", {"identifier": "", "doc": None, "problem": None,
                                                "objected": result.document["pseudonym"]})


async def requests_page(request: web.Request, problem: str | None = None, status: int = 200) -> web.StreamResponse:
    _user(request)
    async with request.app[SESSIONS]() as session:
        rows = await list_requests(session)
    now = utcnow()
    return render(request, "dpo_requests.html", {
        "requests": rows, "overdue": {r.id for r in rows if is_overdue(r, now)}, "kinds": [str(k) for k in RequestKind],
        "today": date.today().isoformat(), "problem": problem}, status=status)


async def request_create(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    form = request[FORM]
    kind, identifier = str(form.get("kind", "")), str(form.get("identifier", "")).strip()
    try:
        received = datetime.combine(date.fromisoformat(str(form.get("received", ""))), time(12),
                                    tzinfo=request.app[CONFIG].tz)
    except ValueError:
        return await requests_page(request, N_("Enter the date the request was received."), 422)
    if kind not in set(RequestKind):
        return await requests_page(request, N_("Choose the kind of request."), 422)
    vault = request.app[FEDERATION].vault
    async with request.app[SESSIONS].begin() as session:
        try:
            subject = await find_person(session, vault, identifier)
            ref = subject.pseudonym if subject is not None else vault.pseudonym(identifier) if identifier else None
        except ValueError:
            return await requests_page(request, PROBLEMS["invalid"], 422)
        row = await open_request(session, RequestKind(kind), ref, received)
        await record(session, Event(Action.REQUEST_OPENED, *_by(user), subject_ref=ref, reason=kind,
                                    details={"request": row.id, "due": row.due_at.date().isoformat()}))
    raise web.HTTPSeeOther("/dpo/requests")


async def request_close(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    request_id = int_param(request.match_info.get("request_id"))
    async with request.app[SESSIONS].begin() as session:
        row = await session.get(RightsRequest, request_id) if request_id else None
        if row is None:
            raise web.HTTPNotFound(text=N_("No such request."))
        await close_request(session, row, "closed_by_dpo")
        await record(session, Event(Action.REQUEST_CLOSED, *_by(user), subject_ref=row.subject_ref,
                                    reason=row.kind, details={"request": row.id}))
    raise web.HTTPSeeOther("/dpo/requests")


def setup(app: web.Application, guard: Guard) -> None:
    app[_GUARD] = guard
    receipts.setup(app, guard)
    app.router.add_get("/dpo/subject", subject_form, name="dpo_subject")
    app.router.add_post("/dpo/subject", subject_lookup)
    app.router.add_post("/dpo/subject/erase", subject_erase, name="dpo_subject_erase")
    app.router.add_post("/dpo/subject/object", subject_object, name="dpo_subject_object")
    app.router.add_get("/dpo/requests", requests_page, name="dpo_requests")
    app.router.add_post("/dpo/requests", request_create)
    app.router.add_post("/dpo/requests/{request_id}/close", request_close, name="dpo_request_close")
