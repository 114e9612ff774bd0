"""Every code the DPO (or an editor) may see has a word: audit actions and outcomes, the reason codes the
services write into the log, purposes, legal bases, visibilities. A new member of one of these vocabularies
without a word fails here, not in front of a German DPO."""

from __future__ import annotations

import contextvars

import pytest

from activitypub.guard import RequestReason
from activitypub.signatures import RejectReason
from bridge.auth.tokens import TokenReason
from bridge.auth.passwords import ResetReason
from bridge.auth.totp import CodeCheck
from bridge.auth.users import SigninReason
from bridge.delivery.domain_blocks import BlockReason, BlockResult
from bridge.delivery.jobs import DeliveryOutcome
from bridge.inbound.effects import Effect
from bridge.mail.jobs import MailReason
from bridge.mail.transport import SendReason
from bridge.inbound.request import Refusal
from bridge.platforms.connectors.base import Reason as PlatformReason
from bridge.privacy.consent_requests import AskReason
from bridge.publishing.feedimport import PollReason
from bridge.web.i18n import Catalogues, set_language
from bridge.web.labels import KINDS, label_of
from bridge.web.render import create_templates
from consent.audit import Action, Outcome
from consent.auditpolicy import Basis, RetentionClass, defaults_for
from consent.consents import Channel, ConsentReason
from consent.interactions import InteractionKind
from consent.moderation import MoveReason
from consent.requests import RequestKind, RequestState

REASONS = (SigninReason, TokenReason, Refusal, Effect, RejectReason, RequestReason, DeliveryOutcome, PlatformReason,
           AskReason, Channel, ConsentReason, MoveReason, BlockResult, BlockReason, RequestKind, CodeCheck,
           ResetReason, SendReason, MailReason)


@pytest.mark.parametrize("kind, vocabulary", [("action", Action), ("outcome", Outcome), ("basis", Basis),
                                              ("retention", RetentionClass), ("request_kind", RequestKind),
                                              ("request_state", RequestState), ("interaction", InteractionKind),
                                              ("poll", PollReason)])
def test_every_member_of_a_vocabulary_has_a_word(kind, vocabulary):
    assert [str(m) for m in vocabulary if not label_of(kind, m)] == []


@pytest.mark.parametrize("vocabulary", REASONS, ids=lambda v: v.__name__)
def test_every_reason_code_written_to_the_log_has_a_word(vocabulary):
    assert [str(m) for m in vocabulary if m != "ok" and not label_of("reason", m)] == []


def test_every_purpose_the_log_defaults_to_has_a_word():
    assert [a for a in Action if not label_of("purpose", defaults_for(str(a))[0])] == []


def test_a_code_without_a_word_is_shown_as_it_is():
    assert label_of("reason", "something_new") is None and label_of("action", None) is None
    assert set(KINDS) >= {"action", "outcome", "reason", "visibility"}


def test_a_replys_visibility_is_a_german_word_with_the_code_in_the_title():
    contextvars.copy_context().run(_visibility_in_german)  # the language stays German in here only


def _visibility_in_german():
    set_language("de")
    signals = create_templates(Catalogues()).get_template("_moderation_macros.html").module.signals
    shown = str(signals({"visibility": "public"}))
    assert "Sichtbarkeit: <span" in shown and ">öffentlich</span>" in shown and 'title="public"' in shown
    assert "Sichtbarkeit: –" in str(signals({}))
