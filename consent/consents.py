"""Consent receipts: asked for by a moderator, given by the person's signed "JA"/"YES", withdrawn by
"STOP"/"NEIN", an Undo or Delete of that answer, a Delete of the reply, or the one-click link.

Consent here covers only extras beyond the public task (showing a reply on the city's pages); the reply
itself is kept for moderation under Art. 6(1)(e) either way. Withdrawal takes effect at once: the public
pages ask `consented_reply_ids` on every request. Every doubt counts against consent: an answer that
contains a stop word withdraws, an answer that is not clearly yes is ignored.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent.fingerprints import Kind, fingerprint
from consent.ledger import ConsentReceipt, ConsentRequest, ConsentText
from consent.models import Reply, Subject
from consent.vault import Vault

YES_WORDS = frozenset({"ja", "yes"})
STOP_WORDS = frozenset({"stop", "stopp", "nein", "no", "widerruf", "widerrufen", "withdraw"})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class ConsentState(enum.StrEnum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"


class Channel(enum.StrEnum):
    """How consent was given or withdrawn (the receipt's and the audit entry's `channel`)."""

    DM_ANSWER = "dm_answer"  # a signed reply to our request
    UNDO = "undo"  # Undo of the answering activity
    DELETE_ANSWER = "delete_answer"  # Delete of the answering note
    DELETE_REPLY = "delete_reply"  # Delete of the reply the consent was about
    LINK = "link"  # the one-click withdrawal link


class Answer(enum.StrEnum):
    YES = "yes"
    STOP = "stop"
    UNCLEAR = "unclear"


class ConsentReason(enum.StrEnum):
    GIVEN = "consent_given"
    ALREADY_GIVEN = "consent_already_given"
    WITHDRAWN = "consent_withdrawn"
    NOTHING_TO_WITHDRAW = "nothing_to_withdraw"
    NOT_AUTHOR = "not_author"
    UNCLEAR_ANSWER = "unclear_answer"
    ALREADY_ASKED = "already_asked"
    DECLINED_BEFORE = "declined_before"
    SUBJECT_ERASED = "subject_erased"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    ConsentReason.GIVEN: "the person gave consent; a receipt was stored",
    ConsentReason.ALREADY_GIVEN: "consent was already given for this reply",
    ConsentReason.WITHDRAWN: "consent was withdrawn",
    ConsentReason.NOTHING_TO_WITHDRAW: "there was no given consent to withdraw",
    ConsentReason.NOT_AUTHOR: "only the person asked may answer",
    ConsentReason.UNCLEAR_ANSWER: "the answer is neither yes nor stop; nothing changed",
    ConsentReason.ALREADY_ASKED: "this person was already asked about this reply and has not answered",
    ConsentReason.DECLINED_BEFORE: "this person declined or withdrew before; they are not asked again",
    ConsentReason.SUBJECT_ERASED: "the person was erased",
}


@dataclass(frozen=True)
class ConsentResult:
    reason: ConsentReason
    receipt_ids: tuple[int, ...] = ()
    reply_id: int | None = None


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_answer(text: str) -> Answer:
    """Plain text of an answer (mentions and links included) → yes, stop or unclear."""
    words = [w.lower() for w in _WORD.findall(" ".join(t for t in text.split() if not _noise(t)))]
    if any(w in STOP_WORDS for w in words):
        return Answer.STOP
    return Answer.YES if words and words[0] in YES_WORDS else Answer.UNCLEAR


def _noise(token: str) -> bool:
    return token.startswith("@") or "://" in token


async def ask_check(session: AsyncSession, reply_id: int) -> ConsentReason | None:
    """Why this reply's author must not be asked (again), or None."""
    requests = (await session.scalars(select(ConsentRequest).where(ConsentRequest.reply_id == reply_id))).all()
    if any(r.closed_at is not None for r in requests):
        return ConsentReason.DECLINED_BEFORE
    if await _given(session, [reply_id]):
        return ConsentReason.ALREADY_GIVEN
    return ConsentReason.ALREADY_ASKED if requests else None


async def open_request(session: AsyncSession, vault: Vault, reply: Reply, *, purpose: str, text: str,
                       dm_id: str, token: str, requested_by: str, now: datetime) -> ConsentRequest:
    """Records the request (and the text version) in the transaction that queues the DM."""
    digest = text_sha256(text)
    if await session.get(ConsentText, digest) is None:
        session.add(ConsentText(sha256=digest, purpose=purpose, text=text, first_used_at=now))
    request = ConsentRequest(subject_id=reply.subject_id, reply_id=reply.id, actor_name=reply.actor_name,
                             purpose=purpose, text_sha256=digest, dm_hash=fingerprint(vault, Kind.OBJECT, dm_id),
                             token_sha256=hashlib.sha256(token.encode()).hexdigest(), requested_by=requested_by,
                             created_at=now)
    session.add(request)
    await session.flush()
    return request


async def find_request(session: AsyncSession, vault: Vault, dm_id: str) -> ConsentRequest | None:
    return await session.scalar(select(ConsentRequest).where(
        ConsentRequest.dm_hash == fingerprint(vault, Kind.OBJECT, dm_id)))


async def request_by_token(session: AsyncSession, token: str) -> ConsentRequest | None:
    if not token or len(token) > 200:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return await session.scalar(select(ConsentRequest).where(ConsentRequest.token_sha256 == digest))


async def give(session: AsyncSession, vault: Vault, subject: Subject, request: ConsentRequest, *,
               activity_id: str, note_id: str, key_id: str, now: datetime) -> ConsentResult:
    """A signed "JA" from the person asked: one receipt with the evidence, sealed with their key."""
    if subject.id != request.subject_id:
        return ConsentResult(ConsentReason.NOT_AUTHOR, reply_id=request.reply_id)
    if subject.wrapped_key is None:
        return ConsentResult(ConsentReason.SUBJECT_ERASED, reply_id=request.reply_id)
    given = await _given(session, [request.reply_id])
    if given:
        return ConsentResult(ConsentReason.ALREADY_GIVEN, tuple(r.id for r in given), request.reply_id)
    receipt = ConsentReceipt(
        subject_id=subject.id, reply_id=request.reply_id, request_id=request.id, purpose=request.purpose,
        text_sha256=request.text_sha256, channel=Channel.DM_ANSWER,
        enc_activity_id=vault.seal(subject, "consent_receipt.activity_id", activity_id),
        enc_key_id=vault.seal(subject, "consent_receipt.key_id", key_id),
        activity_hash=fingerprint(vault, Kind.ACTIVITY, activity_id),
        note_hash=fingerprint(vault, Kind.OBJECT, note_id), given_at=now, state=ConsentState.GIVEN)
    request.closed_at = request.closed_by = None  # a new yes reopens a request closed by an earlier stop
    session.add(receipt)
    await session.flush()
    return ConsentResult(ConsentReason.GIVEN, (receipt.id,), request.reply_id)


async def withdraw_request(session: AsyncSession, request: ConsentRequest, channel: Channel,
                           now: datetime) -> ConsentResult:
    """"STOP" or the link: every receipt for the reply goes, and the request is closed (no asking again)."""
    request.closed_at, request.closed_by = now, str(channel)
    return await withdraw_reply(session, request.reply_id, channel, now)


async def withdraw_reply(session: AsyncSession, reply_id: int, channel: Channel, now: datetime) -> ConsentResult:
    return await _withdraw(await _given(session, [reply_id]), channel, now, reply_id)


async def withdraw_answer(session: AsyncSession, vault: Vault, subject: Subject, *, activity_id: str | None = None,
                          note_id: str | None = None, now: datetime) -> ConsentResult:
    """Undo of the answering activity or Delete of the answering note, by its author only."""
    query = select(ConsentReceipt).where(ConsentReceipt.subject_id == subject.id,
                                         ConsentReceipt.state == ConsentState.GIVEN)
    if activity_id is not None:
        query, channel = query.where(ConsentReceipt.activity_hash == fingerprint(vault, Kind.ACTIVITY, activity_id)), \
            Channel.UNDO
    else:
        query, channel = query.where(ConsentReceipt.note_hash == fingerprint(vault, Kind.OBJECT, note_id or "")), \
            Channel.DELETE_ANSWER
    receipts = list((await session.scalars(query)).all())
    return await _withdraw(receipts, channel, now, receipts[0].reply_id if receipts else None)


async def _withdraw(receipts: list[ConsentReceipt], channel: Channel, now: datetime,
                    reply_id: int | None) -> ConsentResult:
    for receipt in receipts:
        receipt.state, receipt.withdrawn_at, receipt.withdrawal_channel = ConsentState.WITHDRAWN, now, str(channel)
    reason = ConsentReason.WITHDRAWN if receipts else ConsentReason.NOTHING_TO_WITHDRAW
    return ConsentResult(reason, tuple(r.id for r in receipts), reply_id)


async def _given(session: AsyncSession, reply_ids: Iterable[int]) -> list[ConsentReceipt]:
    return list((await session.scalars(select(ConsentReceipt).where(
        ConsentReceipt.reply_id.in_(list(reply_ids)), ConsentReceipt.state == ConsentState.GIVEN))).all())


async def consented_reply_ids(session: AsyncSession, reply_ids: Iterable[int], purpose: str) -> set[int]:
    """The replies with a given (not withdrawn) consent for `purpose`."""
    return {r.reply_id for r in await _given(session, reply_ids) if r.purpose == purpose}


async def consent_states(session: AsyncSession, reply_ids: Iterable[int]) -> dict[int, str]:
    """Per reply, for moderators: "given", "withdrawn", "declined", "asked" (or missing: never asked)."""
    ids = list(reply_ids)
    states: dict[int, str] = {}
    for request in (await session.scalars(select(ConsentRequest).where(ConsentRequest.reply_id.in_(ids)))).all():
        states[request.reply_id] = "declined" if request.closed_at is not None else "asked"
    receipts = (await session.scalars(select(ConsentReceipt).where(ConsentReceipt.reply_id.in_(ids))
                                      .order_by(ConsentReceipt.id))).all()
    for receipt in receipts:
        states[receipt.reply_id] = str(receipt.state)
    return states


async def receipts_of(session: AsyncSession, vault: Vault, subject: Subject) -> list[dict]:
    """The person's consent receipts for an access export (Art. 15): the evidence opened with their key."""
    rows = (await session.scalars(select(ConsentReceipt).where(ConsentReceipt.subject_id == subject.id)
                                  .order_by(ConsentReceipt.id))).all()
    return [{"reply_id": r.reply_id, "purpose": r.purpose, "text_sha256": r.text_sha256, "channel": r.channel,
             "activity_id": vault.open(subject, "consent_receipt.activity_id", r.enc_activity_id),
             "key_id": vault.open(subject, "consent_receipt.key_id", r.enc_key_id),
             "given_at": r.given_at.isoformat(), "state": r.state,
             "withdrawn_at": r.withdrawn_at.isoformat() if r.withdrawn_at else None,
             "withdrawal_channel": r.withdrawal_channel} for r in rows]
