"""Why a poll or one message ended as it did: codes for logs, the admin page and the audit."""

from __future__ import annotations

import enum


class WarningReason(enum.StrEnum):
    # A poll's result
    POLLED = "polled"
    NOT_MODIFIED = "not_modified"
    FETCH_FAILED = "fetch_failed"
    TIMEOUT = "timeout"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    REFUSED_ADDRESS = "refused_address"
    HTTP_ERROR = "http_error"
    INVALID_JSON = "invalid_json"
    INVALID_XML = "invalid_xml"
    UNEXPECTED_SHAPE = "unexpected_shape"
    CONCURRENT = "concurrent"
    # One message's result
    POSTED = "posted"
    HELD = "held"  # in the approval queue (mode = "draft")
    UPDATED = "updated"
    LIFTED = "lifted"
    EXPIRED = "expired"
    SEEN = "seen"
    BELOW_SEVERITY = "below_severity"
    OUTSIDE_REGION = "outside_region"
    ALREADY_EXPIRED = "already_expired"
    NOT_ACTUAL = "not_actual"
    NO_INFO = "no_info"
    UNKNOWN_SEVERITY = "unknown_severity"
    UNKNOWN_REFERENCES = "unknown_references"
    INVALID_MESSAGE = "invalid_message"
    POST_REFUSED = "post_refused"

    @property
    def description(self) -> str:
        return REASON_TEXT[self]

    @property
    def broken(self) -> bool:
        return self in BROKEN


REASON_TEXT = {
    WarningReason.POLLED: "the source was read",
    WarningReason.NOT_MODIFIED: "the source has not changed since the last poll",
    WarningReason.FETCH_FAILED: "the source could not be reached",
    WarningReason.TIMEOUT: "the source did not answer in time",
    WarningReason.TOO_MANY_REDIRECTS: "the source redirected too often",
    WarningReason.REFUSED_ADDRESS: "the source's address is not allowed (private network or bad scheme)",
    WarningReason.HTTP_ERROR: "the source answered with an error status",
    WarningReason.INVALID_JSON: "the source's answer is not valid JSON",
    WarningReason.INVALID_XML: "the source's answer is not valid (or not safe) XML",
    WarningReason.UNEXPECTED_SHAPE: "the source's answer does not have the documented shape",
    WarningReason.CONCURRENT: "another worker imported the same messages at the same time; nothing doubled",
    WarningReason.POSTED: "a new warning was posted and pinned",
    WarningReason.HELD: "a new warning waits for approval",
    WarningReason.UPDATED: "an update edited the warning's posts",
    WarningReason.LIFTED: "the warning was lifted: its posts say so and are unpinned",
    WarningReason.EXPIRED: "the warning expired: its posts are unpinned",
    WarningReason.SEEN: "the message was imported before",
    WarningReason.BELOW_SEVERITY: "the message is below the source's minimum severity",
    WarningReason.OUTSIDE_REGION: "the message is not for the configured region",
    WarningReason.ALREADY_EXPIRED: "the message had expired before it was read",
    WarningReason.NOT_ACTUAL: "the message is an exercise, test or draft, not an actual warning",
    WarningReason.NO_INFO: "the CAP message has no info block",
    WarningReason.UNKNOWN_SEVERITY: "the CAP message has a severity CAP does not define",
    WarningReason.UNKNOWN_REFERENCES: "the message refers to messages never seen here",
    WarningReason.INVALID_MESSAGE: "the message lacks a required CAP field",
    WarningReason.POST_REFUSED: "the post service refused the warning's text",
}

BROKEN = frozenset({WarningReason.FETCH_FAILED, WarningReason.TIMEOUT, WarningReason.TOO_MANY_REDIRECTS,
                    WarningReason.REFUSED_ADDRESS, WarningReason.HTTP_ERROR, WarningReason.INVALID_JSON,
                    WarningReason.INVALID_XML, WarningReason.UNEXPECTED_SHAPE})
