"""Handing a message to the configured SMTP server (aiosmtplib), with a reason for every outcome."""

from __future__ import annotations

import enum
import ssl
from email.message import EmailMessage

import aiosmtplib

from bridge.config.model import MailConfig


class SendReason(enum.StrEnum):
    SENT = "sent"
    UNREACHABLE = "smtp_unreachable"  # no connection, or it broke: tried again later
    TEMPORARY = "smtp_temporary"  # a 4xx answer: tried again later
    REFUSED = "smtp_refused"  # a 5xx answer (a wrong address, no relaying): not tried again
    AUTH_FAILED = "smtp_auth_failed"  # the configured credentials were refused: tried again (an admin fixes it)

    @property
    def description(self) -> str:
        return {SendReason.SENT: "the SMTP server took the message",
                SendReason.UNREACHABLE: "the SMTP server could not be reached or the connection broke",
                SendReason.TEMPORARY: "the SMTP server answered with a temporary error",
                SendReason.REFUSED: "the SMTP server refused the message for good",
                SendReason.AUTH_FAILED: "the SMTP server refused the configured credentials"}[self]

    @property
    def retry(self) -> bool:
        return self in (SendReason.UNREACHABLE, SendReason.TEMPORARY, SendReason.AUTH_FAILED)


async def send(mail: MailConfig, message: EmailMessage) -> SendReason:
    """TLS (smtps:// or STARTTLS) checks the server's certificate against the system's store."""
    try:
        await aiosmtplib.send(
            message, hostname=mail.host, port=mail.port, use_tls=mail.tls, start_tls=mail.starttls,
            username=mail.username, password=mail.password.value if mail.password else None,
            timeout=mail.timeout_seconds, tls_context=ssl.create_default_context())
    except aiosmtplib.SMTPAuthenticationError:
        return SendReason.AUTH_FAILED
    except aiosmtplib.SMTPRecipientsRefused as exc:
        temporary = all(400 <= r.code < 500 for r in exc.recipients)
        return SendReason.TEMPORARY if temporary else SendReason.REFUSED
    except aiosmtplib.SMTPResponseException as exc:
        return SendReason.TEMPORARY if 400 <= exc.code < 500 else SendReason.REFUSED
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        return SendReason.UNREACHABLE
    return SendReason.SENT
