"""Fixtures for the mail tests: a running SMTP server and a config that sends to it."""

from __future__ import annotations

import pytest

from fakes.smtp import SmtpInbox, start_smtp


@pytest.fixture
async def smtp():
    inbox = SmtpInbox()
    server = await start_smtp(inbox)
    yield inbox
    server.close()
    await server.wait_closed()


def mail_section(port: int, **extra) -> dict:
    return {"smtp_url": f"smtp://127.0.0.1:{port}", "from": "Stadtbote <stadtbote@stadt.test>",
            "starttls": False, **extra}


@pytest.fixture
def mail_config(make_config, smtp):
    return make_config(mail=mail_section(smtp.port))
