"""The data-protection officer's read-only views: the audit log (browse, filter, export), checkpoints and
their verification, the third-country transfer log, and the Art. 30 register. Role `dpo` and admins."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from aiohttp import web
from sqlalchemy import func, select

from bridge.appkeys import CONFIG, SESSIONS
from bridge.store.db import utcnow
from bridge.store.models import Role, User
from bridge.privacy.rights import signer_for
from bridge.privacy.register import build_register
from bridge.auth.users import user_ref
from bridge.web.dpo import rights as dpo_rights
from bridge.web.guards import int_param, require_user
from bridge.web.render import render
from consent.audit import Action, Event, Outcome, record
from consent.auditexport import export_chunks
from consent.auditsigning import checkpoints, write_checkpoint
from consent.models import AuditEntry
from consent.verifier import verify_export

DPO_ROLES = (Role.DPO, Role.ADMIN)
PAGE_SIZE = 50
TRANSFER = str(Action.PLATFORM_TRANSFER)


def dpo_user(request: web.Request) -> User:
    return require_user(request, roles=DPO_ROLES)


@dataclass(frozen=True)
class LogFilter:
    action: str = ""
    outcome: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1

    @classmethod
    def of(cls, query) -> "LogFilter":
        action = query.get("action", "") if query.get("action", "") in set(Action) else ""
        outcome = query.get("outcome", "") if query.get("outcome", "") in set(Outcome) else ""
        return cls(action, outcome, _day(query.get("from")), _day(query.get("to")), int_param(query.get("page")) or 1)

    def where(self, tz) -> list:
        clauses = []
        if self.action:
            clauses.append(AuditEntry.action == self.action)
        if self.outcome:
            clauses.append(AuditEntry.outcome == self.outcome)
        if self.since:
            clauses.append(AuditEntry.created_at >= datetime.combine(self.since, time(), tzinfo=tz))
        if self.until:
            clauses.append(AuditEntry.created_at < datetime.combine(self.until + timedelta(days=1), time(), tzinfo=tz))
        return clauses

    def query_string(self, page: int) -> str:
        parts = {"action": self.action, "outcome": self.outcome, "from": self.since or "", "to": self.until or ""}
        return "&".join(f"{k}={v}" for k, v in parts.items() if v) + f"&page={page}"


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


async def _page(session, clauses: list, page: int) -> tuple[list[AuditEntry], int]:
    total = await session.scalar(select(func.count()).select_from(AuditEntry).where(*clauses))
    rows = (await session.scalars(select(AuditEntry).where(*clauses).order_by(AuditEntry.seq.desc())
                                  .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))).all()
    return list(rows), total


async def audit_page(request: web.Request) -> web.StreamResponse:
    dpo_user(request)
    config = request.app[CONFIG]
    log_filter = LogFilter.of(request.query)
    async with request.app[SESSIONS]() as session:
        entries, total = await _page(session, log_filter.where(config.tz), log_filter.page)
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "dpo_audit.html", {
        "entries": entries, "total": total, "filter": log_filter, "pages": pages, "actions": sorted(map(str, Action)),
        "outcomes": [str(o) for o in Outcome], "details": lambda e: json.dumps(e.details or {}, ensure_ascii=False)})


async def audit_export(request: web.Request) -> web.StreamResponse:
    """The same JSON as `stadtbote audit export`, after a fresh checkpoint that covers the export's entry."""
    user = dpo_user(request)
    signer = signer_for(request.app[CONFIG])
    sessions = request.app[SESSIONS]
    async with sessions.begin() as session:
        await record(session, Event(Action.AUDIT_EXPORTED, user.role, user_ref(user), details={"since": 0}))
    async with sessions.begin() as session:
        await write_checkpoint(session, signer)
    response = web.StreamResponse(headers={
        "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="audit-{utcnow():%Y%m%d-%H%M%S}.json"'})
    await response.prepare(request)
    async with sessions() as session:
        async for chunk in export_chunks(session, signer.origin):
            await response.write(chunk.encode("utf-8"))
    await response.write_eof()
    return response


async def checkpoints_page(request: web.Request) -> web.StreamResponse:
    """Signed checkpoints, and on request a full verification of the log as the DPO's own tool does it."""
    dpo_user(request)
    signer = signer_for(request.app[CONFIG])
    report = None
    async with request.app[SESSIONS]() as session:
        notes = await checkpoints(session)
        if request.query.get("verify") == "1":
            text = "".join([chunk async for chunk in export_chunks(session, signer.origin)])
            report = verify_export(json.loads(text), signer.verifier_key, signer.origin)
    return render(request, "dpo_checkpoints.html", {
        "checkpoints": list(reversed(notes)), "report": report, "public_key": signer.public_pem(),
        "vkey": signer.verifier_key.encode(), "origin": signer.origin})


async def transfers_page(request: web.Request) -> web.StreamResponse:
    dpo_user(request)
    page = int_param(request.query.get("page")) or 1
    async with request.app[SESSIONS]() as session:
        entries, total = await _page(session, [AuditEntry.action == TRANSFER], page)
    return render(request, "dpo_transfers.html", {"entries": entries, "total": total, "page": page,
                                                   "pages": max(1, -(-total // PAGE_SIZE))})


async def register_page(request: web.Request) -> web.StreamResponse:
    dpo_user(request)
    return render(request, "dpo_register.html", {"register": build_register(request.app[CONFIG], utcnow())})


def setup(app: web.Application) -> None:
    app.router.add_get("/dpo/audit", audit_page, name="dpo_audit")
    app.router.add_get("/dpo/audit/export", audit_export, name="dpo_audit_export")
    app.router.add_get("/dpo/checkpoints", checkpoints_page, name="dpo_checkpoints")
    app.router.add_get("/dpo/transfers", transfers_page, name="dpo_transfers")
    app.router.add_get("/dpo/register", register_page, name="dpo_register")
    dpo_rights.setup(app, dpo_user)
