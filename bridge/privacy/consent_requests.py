"""Asking a reply's author for consent: a direct message from the account they replied to.

The DM is a Note addressed only to the author (`to: [author]`, no `cc`, no Public) with a Mention tag —
Mastodon's shape of a direct message — in German and English, with a one-click withdrawal link. It is
sent through `delivery.enqueue_direct`, so it is signed, retried and cancelled if the person is erased.
Its id and the link's token are random; the store keeps only their keyed hash / SHA-256.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession

from activitypub import vocab
from activitypub.uris import Uris
from bridge.delivery import jobs as delivery
from bridge.config.model import Config, ConsentConfig
from bridge.delivery.domain_blocks import blocked
from bridge.runtime.federation import Federation
from bridge.store.models import User
from bridge.auth.users import user_ref
from consent.audit import Action, Event, Outcome, record
from consent.consents import ConsentReason, ask_check, open_request
from consent.models import RemoteActor, Reply, Subject
from consent.moderation import ModerationState, display_blockers
from consent.subjects import KnownActor, open_actor

WITHDRAW_PATH = "/consent/withdraw?t="  # a query: access logs drop query strings, so the token is never logged


class AskReason(enum.StrEnum):
    REQUESTED = "consent_requested"
    NO_CHANNEL = "no_channel"  # a platform reply, or an author whose inbox we do not know
    OPTED_OUT = "opted_out"
    WRONG_STATE = "wrong_state"
    DOMAIN_BLOCKED = "domain_blocked"
    ALREADY_ASKED = str(ConsentReason.ALREADY_ASKED)
    ALREADY_GIVEN = str(ConsentReason.ALREADY_GIVEN)
    DECLINED_BEFORE = str(ConsentReason.DECLINED_BEFORE)


@dataclass(frozen=True)
class AskResult:
    reason: AskReason
    request_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.reason is AskReason.REQUESTED


def request_text(consent: ConsentConfig) -> str:
    """The exact text whose SHA-256 goes into every receipt: German, a blank line, English."""
    return f"{consent.request_text_de}\n\n{consent.request_text_en}"


def withdraw_url(uris: Uris, token: str) -> str:
    return uris.url(WITHDRAW_PATH + token)


def dm_document(uris: Uris, actor_name: str, dm_id: str, author: KnownActor, reply_object_id: str,
                consent: ConsentConfig, link: str, now: datetime) -> dict:
    """Create{Note} addressed to the author alone, with the Mention that makes it a DM in Mastodon."""
    user = (author.handle or "@person").lstrip("@").partition("@")[0]
    mention = (f'<span class="h-card"><a href="{escape(author.uri)}" class="u-url mention">'
               f"@<span>{escape(user)}</span></a></span>")
    paragraphs = [f"{mention} {_html(consent.request_text_de)}", _html(consent.request_text_en),
                  f'Widerruf / Withdraw: <a href="{escape(link)}">{escape(link)}</a>']
    note = {
        "id": dm_id, "type": "Note", "attributedTo": uris.actor(actor_name), "published": vocab.iso(now),
        "to": [author.uri], "cc": [], "inReplyTo": reply_object_id, "sensitive": False,
        "content": "".join(f"<p>{p}</p>" for p in paragraphs),
        "tag": [{"type": "Mention", "href": author.uri, "name": author.handle or author.uri}],
    }
    return vocab.with_context({"id": f"{dm_id}/activity", "type": "Create", "actor": uris.actor(actor_name),
                               "published": note["published"], "to": note["to"], "cc": [], "object": note})


def _html(text: str) -> str:
    return escape(text).replace("\n", "<br>")


async def ask_consent(session: AsyncSession, config: Config, federation: Federation, user: User, reply: Reply,
                      now: datetime) -> AskResult:
    """Checks, stores the request and queues the DM in the caller's transaction; audited either way."""
    subject = await session.get(Subject, reply.subject_id)
    row = await session.get(RemoteActor, reply.subject_id)
    author = open_actor(federation.vault, subject, row) if subject is not None and row is not None else None
    reason = await _refusal(session, reply, author, row)
    if reason is not None:
        await _audit(session, user, reply, subject, config, reason)
        return AskResult(reason)
    uris, token = federation.uris, secrets.token_urlsafe(32)
    dm_id = f"{uris.actor(reply.actor_name)}/consent_requests/{secrets.token_urlsafe(18)}"
    opened = federation.vault.open(subject, "reply.object_id", reply.enc_object_id)
    request = await open_request(session, federation.vault, reply, purpose=config.consent.purpose,
                                 text=request_text(config.consent), dm_id=dm_id, token=token,
                                 requested_by=user_ref(user), now=now)
    document = dm_document(uris, reply.actor_name, dm_id, author, opened, config.consent,
                           withdraw_url(uris, token), now)
    await delivery.enqueue_direct(session, reply.actor_name, author.inbox, document, subject_id=subject.id)
    await _audit(session, user, reply, subject, config, AskReason.REQUESTED,
                 request=request.id, text_sha256=request.text_sha256)
    return AskResult(AskReason.REQUESTED, request.id)


async def _refusal(session: AsyncSession, reply: Reply, author: KnownActor | None,
                   row: RemoteActor | None) -> AskReason | None:
    if author is None or row is None:
        return AskReason.NO_CHANNEL
    if reply.state in (ModerationState.SPAM, ModerationState.DELETED):
        return AskReason.WRONG_STATE
    if display_blockers(reply.signals, row.signals):
        return AskReason.OPTED_OUT  # never shown anyway: asking would only bother them
    if await blocked(session, row.domain) is not None:
        return AskReason.DOMAIN_BLOCKED
    refused = await ask_check(session, reply.id)
    return AskReason(str(refused)) if refused is not None else None


async def _audit(session: AsyncSession, user: User, reply: Reply, subject: Subject | None, config: Config,
                 reason: AskReason, **details) -> None:
    outcome = Outcome.OK if reason is AskReason.REQUESTED else Outcome.DENIED
    await record(session, Event(Action.CONSENT_REQUESTED, user.role, user_ref(user), outcome,
                                subject_ref=subject.pseudonym if subject is not None else None, reason=str(reason),
                                purpose=config.consent.purpose,
                                details={"reply": reply.id, "actor": reply.actor_name, **details}))
