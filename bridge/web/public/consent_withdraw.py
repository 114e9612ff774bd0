"""The one-click withdrawal link from the consent request: `GET /consent/withdraw?t=…` shows a
confirmation form (no cookies, nothing about the person on the page), `POST` withdraws at once.

The token travels in the query string because access logs drop query strings; the store keeps only its
SHA-256. The form carries the stateless anonymous CSRF token, so no cookie is needed to send it.
"""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG, FORM, SESSIONS
from bridge.privacy.consent_audit import record_consent
from bridge.store.db import utcnow
from bridge.web.public.views import ROBOTS_NOINDEX, public_page
from consent.consents import Channel, ConsentReason, request_by_token, withdraw_request
from consent.models import Subject

PATH = "/consent/withdraw"


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, confirm, name="consent_withdraw")
    app.router.add_post(PATH, withdraw)


def _page(request: web.Request, template: str, context: dict, status: int = 200) -> web.Response:
    response = public_page(request, template, {"robots": ROBOTS_NOINDEX, **context}, status=status)
    response.headers["Cache-Control"] = "no-store"  # a page about one person's consent is never cached
    return response


async def confirm(request: web.Request) -> web.StreamResponse:
    token = request.query.get("t", "")
    async with request.app[SESSIONS]() as session:
        found = await request_by_token(session, token)
    if found is None:
        return _page(request, "consent_withdraw.html", {"unknown": True}, status=404)
    account = request.app[CONFIG].actor(found.actor_name)
    return _page(request, "consent_withdraw.html", {"token": token, "account": account, "unknown": False})


async def withdraw(request: web.Request) -> web.StreamResponse:
    form = request[FORM]
    async with request.app[SESSIONS]() as session:
        found = await request_by_token(session, str(form.get("t", "")))
        if found is None:
            return _page(request, "consent_withdraw.html", {"unknown": True}, status=404)
        result = await withdraw_request(session, found, Channel.LINK, utcnow())
        subject = await session.get(Subject, found.subject_id)
        await record_consent(session, result, subject, found.purpose, Channel.LINK, actor_role="anonymous")
        account = request.app[CONFIG].actor(found.actor_name)
        await session.commit()
    return _page(request, "consent_withdraw_done.html", {
        "account": account, "withdrawn": result.reason is ConsentReason.WITHDRAWN})
