"""Building one e-mail: the text in the recipient's language, plain text with a short HTML part."""

from __future__ import annotations

import html
import re
from email.message import EmailMessage
from email.utils import make_msgid

from bridge.config.model import Config
from bridge.mail.texts import text

_LINK = re.compile(r"https?://[^\s<>\"]+")


def language_of(config: Config, language: str | None) -> str:
    return language if language in ("de", "en") else config.instance.language


def build(config: Config, kind: str, to: str, language: str, **values) -> EmailMessage:
    values.setdefault("instance", config.instance.name)
    message = EmailMessage()
    message["From"] = config.mail.sender
    message["To"] = to
    message["Subject"] = text(kind, language, "subject", **values)
    message["Message-ID"] = make_msgid(domain=config.mail.sender.rpartition("@")[2].strip("> ") or None)
    # Sent by a machine: no out-of-office answers back (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    body = text(kind, language, "body", **values)
    message.set_content(body)
    message.add_alternative(_html(body, language), subtype="html")
    # After the parts are made: making them moves every Content-* header into the plain part.
    message["Content-Language"] = language
    return message


def _html(body: str, language: str) -> str:
    paragraphs = []
    for block in body.split("\n\n"):
        escaped = html.escape(block)
        linked = _LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append(f"<p>{linked.replace(chr(10), '<br>')}</p>")
    return f'<!doctype html><html lang="{language}"><body>{"".join(paragraphs)}</body></html>'
