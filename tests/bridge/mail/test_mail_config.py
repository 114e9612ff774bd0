"""`[mail]` and `[security]`: what a valid section gives, what an invalid one says, and STARTTLS against a real
server with a certificate made for the test (checked, not skipped)."""

from __future__ import annotations

import pytest

from bridge.config.model import ConfigError
from bridge.mail import messages, transport
from fakes.smtp import SmtpInbox, self_signed, start_smtp
from support.mail import mail_section


def test_without_smtp_url_nothing_is_sent_and_nobody_must_enrol(make_config):
    config = make_config()
    assert not config.mail.enabled and config.security.require_second_factor == ()


def test_a_full_section_with_the_password_from_the_environment(make_config, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "geheim")
    config = make_config(mail={"smtp_url": "smtps://mailer%40stadt@mail.stadt.example", "from": "a@stadt.example",
                               "password": "env:SMTP_PASSWORD"},
                         security={"require_second_factor": ["admin", "dpo"]})
    mail = config.mail
    assert (mail.host, mail.port, mail.tls, mail.starttls, mail.username) == (
        "mail.stadt.example", 465, True, False, "mailer@stadt")
    assert mail.password.value == "geheim" and "geheim" not in repr(config)
    assert config.security.require_second_factor == ("admin", "dpo")


@pytest.mark.parametrize("section, problem", [
    ({"smtp_url": "http://mail.example", "from": "a@b.c"}, "mail.smtp_url: must be smtp://"),
    ({"smtp_url": "smtp://u:pw@mail.example", "from": "a@b.c"}, "mail.smtp_url: put the password in [mail] password"),
    ({"smtp_url": "smtp://mail.example:99999", "from": "a@b.c"}, "mail.smtp_url: the port must be"),
    ({"smtp_url": "smtp://mail.example"}, "mail.from: an address"),
    ({"smtp_url": "smtp://mail.example", "from": "a@b.c", "password": "env:NOT_SET_ANYWHERE"},
     "mail.password: environment variable NOT_SET_ANYWHERE is not set"),
    ({"smtp_url": "smtp://mail.example", "from": "a@b.c", "relay": True}, "mail.relay: unknown key"),
])
def test_a_wrong_mail_section_names_the_key(make_config, section, problem):
    with pytest.raises(ConfigError) as raised:
        make_config(mail=section)
    assert str(raised.value).startswith(problem)


def test_an_unknown_role_in_security_is_refused(make_config):
    with pytest.raises(ConfigError, match=r"security.require_second_factor\[1\]: must be admin, editor or dpo"):
        make_config(security={"require_second_factor": ["admin", "root"]})


async def test_starttls_is_used_and_the_certificate_checked(make_config, tmp_path, monkeypatch):
    context, cert_file = self_signed(tmp_path)
    inbox = SmtpInbox()
    server = await start_smtp(inbox, tls_context=context)
    try:
        config = make_config(mail=mail_section(inbox.port, starttls=True))
        message = messages.build(config, "password_reset", "anna@stadt.test", "de", name="anna",
                                 link="http://stadt.test/signin/reset/x")
        # Not trusted yet: the unknown certificate is refused, and the mail waits for a retry.
        assert await transport.send(config.mail, message) is transport.SendReason.UNREACHABLE
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        assert await transport.send(config.mail, message) is transport.SendReason.SENT
        received = await inbox.wait_for(1)
        assert inbox.starttls_used == [True] and received[0].subject == "Neues Passwort für Stadt Teststadt"
    finally:
        server.close()


async def test_a_server_without_starttls_is_not_sent_to_in_plain_text(make_config, smtp):
    config = make_config(mail=mail_section(smtp.port, starttls=True))
    message = messages.build(config, "password_reset", "anna@stadt.test", "en", name="anna", link="http://x.test/")
    assert await transport.send(config.mail, message) is transport.SendReason.UNREACHABLE
    assert smtp.received == []


class Refusing(SmtpInbox):
    """A server that refuses the recipient: for good (550) or for now (451)."""

    def __init__(self, answer: str):
        super().__init__()
        self.answer = answer

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.answer


@pytest.mark.parametrize("answer, reason", [("550 5.1.1 no such mailbox", transport.SendReason.REFUSED),
                                            ("451 4.3.0 try later", transport.SendReason.TEMPORARY)])
async def test_a_refused_recipient_is_final_or_temporary_by_its_code(make_config, answer, reason):
    inbox = Refusing(answer)
    server = await start_smtp(inbox)
    try:
        config = make_config(mail=mail_section(inbox.port))
        message = messages.build(config, "password_reset", "anna@stadt.test", "en", name="anna", link="http://x.test/")
        result = await transport.send(config.mail, message)
        assert result is reason and result.retry is (reason is transport.SendReason.TEMPORARY)
    finally:
        server.close()
