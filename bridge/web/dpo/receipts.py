"""The erasure receipt (Art. 17): a page the DPO hands to the person (what was erased, when, and how to check
it), with the inclusion proof of the erasure entry and the log's public key as files to download.

The receipt is addressed by the erasure entry's sequence number, which names nobody; the proof is drawn
afresh from the log against its newest signed checkpoint, so the receipt can be printed again later."""

from __future__ import annotations

import json
from typing import Callable

from aiohttp import web

from bridge.appkeys import CONFIG, SESSIONS
from bridge.privacy.rights import signer_for
from bridge.store.models import User
from bridge.web.messages import N_
from bridge.web.render import render
from consent.audit import Action
from consent.auditexport import entry_proof
from consent.auditsigning import latest_checkpoint, write_checkpoint
from consent.models import AuditEntry

Guard = Callable[[web.Request], User]
_GUARD = web.AppKey("dpo_receipt_guard", object)
ERASED = str(Action.SUBJECT_ERASED)

# What the erasure entry counts (`bridge.privacy.erasure`), in the order a person reads it.
ERASED_PARTS = {
    "remote_actor": N_("profile (name, handle, address of the server)"),
    "followers": N_("follows of the authority's accounts"),
    "replies": N_("replies and comments"),
    "interactions": N_("likes and boosts"),
    "quote_grants": N_("permissions to quote"),
    "reports": N_("reports (the person's part removed)"),
    "jobs_cancelled": N_("pending messages to the person (cancelled)"),
    "answers_unlinked": N_("the authority's answers (no longer linked to the person)"),
    "mentions_unlinked": N_("mentions in posts (no longer linked to the person)"),
    "requests_closed": N_("open erasure requests (closed)"),
}


def receipt_path(seq: int) -> str:
    return f"/dpo/erasures/{seq}"


async def _erasure(request: web.Request) -> AuditEntry:
    request.app[_GUARD](request)
    seq = int(request.match_info["seq"])  # the route admits 1 to 18 digits: 0 is the log's first entry
    async with request.app[SESSIONS]() as session:
        entry = await session.get(AuditEntry, seq)
    if entry is None or entry.action != ERASED:
        raise web.HTTPNotFound(text=N_("No such erasure."))
    return entry


async def receipt_page(request: web.Request) -> web.StreamResponse:
    entry = await _erasure(request)
    details = entry.details or {}
    parts = [(label, details[key]) for key, label in ERASED_PARTS.items()
             if isinstance(details.get(key), int) and details[key] > 0]  # what there was, not every category
    async with request.app[SESSIONS]() as session:
        checkpoint = await latest_checkpoint(session)
    return render(request, "dpo_erasure_receipt.html", {
        "entry": entry, "parts": parts, "key_destroyed": bool(details.get("key_destroyed")),
        "follow_up": details.get("transfers_to_follow_up") or 0, "signer": signer_for(request.app[CONFIG]),
        "checkpoint": checkpoint if checkpoint is not None and checkpoint.size > entry.seq else None})


async def receipt_proof(request: web.Request) -> web.StreamResponse:
    """The inclusion proof (consent.verifier's format) of the erasure entry, as a file."""
    entry = await _erasure(request)
    sessions = request.app[SESSIONS]
    async with sessions.begin() as session:
        checkpoint = await latest_checkpoint(session)
        if checkpoint is None or checkpoint.size <= entry.seq:
            checkpoint = await write_checkpoint(session, signer_for(request.app[CONFIG]))
    async with sessions() as session:
        proof = await entry_proof(session, entry.seq, checkpoint)
    return web.Response(text=json.dumps(proof, ensure_ascii=False, indent=2) + "\n", content_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="loeschnachweis-{entry.seq}.json"',
                                 "Cache-Control": "no-store"})


async def public_key(request: web.Request) -> web.StreamResponse:
    """The key that signs the checkpoints, for the person to check the proof against."""
    request.app[_GUARD](request)
    return web.Response(text=signer_for(request.app[CONFIG]).public_pem(), content_type="application/x-pem-file",
                        headers={"Content-Disposition": 'attachment; filename="pruefprotokoll-schluessel.pem"'})


def setup(app: web.Application, guard: Guard) -> None:
    app[_GUARD] = guard
    app.router.add_get("/dpo/erasures/{seq:\\d{1,18}}", receipt_page, name="dpo_erasure_receipt")
    app.router.add_get("/dpo/erasures/{seq:\\d{1,18}}/proof", receipt_proof, name="dpo_erasure_proof")
    app.router.add_get("/dpo/checkpoints/key.pem", public_key, name="dpo_public_key")
