"""Audit entries for consent given and withdrawn, whichever channel it came through: the subject's
pseudonym, the purpose, the channel and receipt ids — never the answer's text or ids."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from consent.audit import Action, Event, record
from consent.consents import Channel, ConsentReason, ConsentResult
from consent.models import Subject

_ACTIONS = {ConsentReason.GIVEN: Action.CONSENT_GIVEN, ConsentReason.WITHDRAWN: Action.CONSENT_WITHDRAWN}


async def record_consent(session: AsyncSession, result: ConsentResult, subject: Subject | None, purpose: str,
                         channel: Channel, actor_role: str = "remote") -> None:
    """One entry when consent was given or withdrawn; nothing for answers that changed nothing."""
    action = _ACTIONS.get(result.reason)
    declined = result.reason is ConsentReason.NOTHING_TO_WITHDRAW and channel in (Channel.LINK, Channel.DM_ANSWER)
    if declined:  # a "no" before any "yes": the request is closed, and that is worth proving too
        action = Action.CONSENT_WITHDRAWN
    if action is None:
        return
    reference = subject.pseudonym if subject is not None else "anonymous"
    await record(session, Event(action, actor_role, reference if actor_role == "remote" else "anonymous",
                                subject_ref=subject.pseudonym if subject is not None else None,
                                reason=str(channel), purpose=purpose,
                                details={"reply": result.reply_id, "receipts": list(result.receipt_ids),
                                         "channel": str(channel), "declined": declined}))
