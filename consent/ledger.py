"""Tables of the consent ledger: the texts we asked with, the requests we sent and the receipts we got.

A receipt is the evidence Art. 7(1) GDPR asks for: who (the subject), what (purpose and the hash of the
exact text they were asked with), when, and how (the id of their signed answering activity and the key
that signed it, both sealed with their own key). Requests and receipts hang off the reply they are about,
so erasing the reply — or the person — removes them with it (ON DELETE CASCADE); the audit log keeps the
pseudonymous record that consent was given and withdrawn.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consent.models import UTC, ConsentBase


class ConsentText(ConsentBase):
    """Each version of the request text, once: the receipt's `text_sha256` points here, so the DPO can
    show exactly what a person agreed to."""

    __tablename__ = "consent_text"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    first_used_at: Mapped[datetime] = mapped_column(UTC)


class ConsentRequest(ConsentBase):
    """A direct message we sent to ask for consent. The DM's id and the withdrawal token are kept only
    as keyed hash and SHA-256: enough to recognise an answer or a click, useless to anyone who reads
    the database."""

    __tablename__ = "consent_request"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), index=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("reply.id", ondelete="CASCADE"), index=True)
    actor_name: Mapped[str] = mapped_column(String(30))  # our account that asked
    purpose: Mapped[str] = mapped_column(String(64))
    text_sha256: Mapped[str] = mapped_column(String(64))
    dm_hash: Mapped[str] = mapped_column(String(40), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    requested_by: Mapped[str] = mapped_column(String(40))  # "user:3"
    created_at: Mapped[datetime] = mapped_column(UTC)
    closed_at: Mapped[datetime | None] = mapped_column(UTC, nullable=True)  # the person said no / withdrew
    closed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)


class ConsentReceipt(ConsentBase):
    __tablename__ = "consent_receipt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), index=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("reply.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("consent_request.id", ondelete="SET NULL"),
                                                   nullable=True, index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    text_sha256: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # how it was given: "dm_answer"
    enc_activity_id: Mapped[bytes] = mapped_column(LargeBinary)  # the signed answering activity
    enc_key_id: Mapped[bytes] = mapped_column(LargeBinary)  # the HTTP-signature key that signed it
    activity_hash: Mapped[str] = mapped_column(String(40), index=True)  # to recognise an Undo of it
    note_hash: Mapped[str] = mapped_column(String(40), index=True)  # to recognise a Delete of the answer
    given_at: Mapped[datetime] = mapped_column(UTC)
    state: Mapped[str] = mapped_column(String(16), default="given")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTC, nullable=True)
    withdrawal_channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
