"""Staff e-mail through a real SMTP server: a post awaiting approval tells the account's other editors, a
returned post tells its author (in their language), the daily digest counts new replies; an SMTP server
that is away never holds up a request, and the queue tries again."""

from __future__ import annotations

import asyncio
import secrets
import re
import socket
from datetime import timedelta

import pytest
from aiosmtpd.smtp import SMTP
from sqlalchemy import select

from bridge.appkeys import SESSIONS
from bridge.handlers import standard_worker
from bridge.mail import jobs as mail_jobs, notices
from bridge.mail.notices import MAIL_JOB
from bridge.queue.context import WorkerContext
from bridge.store.db import utcnow
from bridge.store.models import Actor, Job, JobState, Post, PostState, User
from consent.models import Reply, Subject
from fakes.smtp import SmtpInbox
from support.mail import mail_section
from support.web import (Visitor, admin_ready, client_for, compose_form, make_user, post_id_from,  # noqa: F401
                         signed_in, visitors)


@pytest.fixture
def config(make_config, smtp):
    return make_config(mail=mail_section(smtp.port))


async def _with_address(sessions, user_id: int, email: str | None, language: str | None = None,
                        digest: bool = False) -> None:
    async with sessions.begin() as session:
        user = await session.get(User, user_id)
        user.email, user.language, user.reply_digest = email, language, digest


async def _run_worker(config, sessions) -> None:
    await standard_worker(WorkerContext(config, sessions)).run_until_idle()


async def test_a_post_awaiting_approval_mails_the_other_editors_of_that_account_only(
        visitors, sessions, config, smtp, booted):
    author_id, _ = await make_user(sessions, "anna", actors=("feuerwehr",))
    colleague_id, _ = await make_user(sessions, "bernd", actors=("feuerwehr",))
    other_id, _ = await make_user(sessions, "carla", actors=("stadt",))
    without_id, _ = await make_user(sessions, "dora", actors=("feuerwehr",))
    await _with_address(sessions, author_id, "anna@stadt.test")
    await _with_address(sessions, colleague_id, "bernd@stadt.test", "de")
    await _with_address(sessions, other_id, "carla@stadt.test")
    anna = await signed_in(visitors(), sessions, author_id)
    page = await anna.post("/editor/compose", compose_form("Übung am Samstag", actor="feuerwehr"))
    post_id = post_id_from(page)
    await _run_worker(config, sessions)
    received = await smtp.wait_for(1)
    assert len(received) == 1 and received[0].recipients == ["bernd@stadt.test"]
    mail = received[0]
    assert mail.subject == "Beitrag für @feuerwehr wartet auf Ihre Freigabe"
    assert "anna hat einen Beitrag" in mail.plain()
    assert f"{config.instance.base_url}/editor/posts/{post_id}" in mail.links()
    assert f'href="{config.instance.base_url}/editor/posts/{post_id}"' in mail.html()
    assert mail.message["From"] == "Stadtbote <stadtbote@stadt.test>"
    assert "Übung" not in mail.plain()  # the post's text stays on the server


async def test_a_returned_post_mails_its_author_with_the_comment_in_english(visitors, sessions, config, smtp,
                                                                            booted):
    author_id, _ = await make_user(sessions, "anna", actors=("feuerwehr",))
    reviewer_id, _ = await make_user(sessions, "bernd", actors=("feuerwehr",))
    await _with_address(sessions, author_id, "anna@stadt.test", "en")
    anna = await signed_in(visitors(), sessions, author_id)
    post_id = post_id_from(await anna.post("/editor/compose", compose_form("Übung", actor="feuerwehr")))
    bernd = await signed_in(visitors(), sessions, reviewer_id)
    await bernd.get(f"/editor/posts/{post_id}")
    page = await bernd.post(f"/editor/posts/{post_id}/return", {"comment": "Bitte Uhrzeit ergänzen."})
    assert page.status == 303
    await _run_worker(config, sessions)
    received = await smtp.wait_for(1)
    assert [m.recipients for m in received] == [["anna@stadt.test"]]
    assert received[0].subject == "Your post for @feuerwehr was returned"
    assert "Bitte Uhrzeit ergänzen." in received[0].plain() and "bernd returned your post" in received[0].plain()


async def test_the_digest_counts_new_replies_per_account_for_those_who_asked(sessions, config, smtp, booted):
    reader_id, _ = await make_user(sessions, "anna", actors=("stadt", "feuerwehr"))
    quiet_id, _ = await make_user(sessions, "bernd", actors=("stadt",))
    await _with_address(sessions, reader_id, "anna@stadt.test", "de", digest=True)
    await _with_address(sessions, quiet_id, "bernd@stadt.test", "de", digest=False)
    await _store_replies(sessions, "stadt", 2)
    async with sessions.begin() as session:
        assert await mail_jobs.queue_digests(session, config, utcnow()) == 1
    await _run_worker(config, sessions)
    received = await smtp.wait_for(1)
    assert received[0].recipients == ["anna@stadt.test"]
    assert "@stadt: 2 neue Antwort(en)" in received[0].plain() and "@feuerwehr" not in received[0].plain()
    async with sessions.begin() as session:  # the next run counts only what came after
        assert await mail_jobs.queue_digests(session, config, utcnow()) == 0


async def _store_replies(sessions, actor: str, count: int) -> None:
    """Replies as the inbox keeps them (the digest reads only their account and time, never the text)."""
    now = utcnow()
    async with sessions.begin() as session:
        subject = Subject(pseudonym=secrets.token_hex(8), kind="fediverse", created_at=now)
        session.add(subject)
        await session.flush()
        for _ in range(count):
            session.add(Reply(subject_id=subject.id, object_hash=secrets.token_hex(16), actor_name=actor,
                              enc_object_id=b"x", enc_content=b"x", received_at=now - timedelta(minutes=5),
                              retain_until=now + timedelta(days=1)))


async def test_an_unreachable_smtp_server_never_blocks_the_request_and_the_job_tries_again(
        make_config, aiohttp_client, booted):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    config = make_config(mail=mail_section(closed_port))
    client = await client_for(aiohttp_client, config)
    sessions = client.app[SESSIONS]
    user_id, _ = await make_user(sessions, "anna")
    await _with_address(sessions, user_id, "anna@stadt.test")
    visitor = Visitor(client)
    try:
        await visitor.get("/signin/forgot")
        page = await visitor.post("/signin/forgot", {"who": "anna"})
        assert page.status == 200 and page.has("a link to set a new password is on its way")
    finally:
        await visitor.close()
    await _run_worker(config, sessions)
    async with sessions() as session:
        job = await session.scalar(select(Job).where(Job.kind == MAIL_JOB))
    assert job.state == JobState.QUEUED and job.attempts == 1 and job.last_error == "smtp_unreachable"
    # The server comes back on that port: the retry delivers.
    inbox = SmtpInbox()
    loop_server = await asyncio.get_running_loop().create_server(lambda: SMTP(inbox), "127.0.0.1", closed_port)
    try:
        async with sessions.begin() as session:
            (await session.get(Job, job.id)).run_at = utcnow()
        await _run_worker(config, sessions)
        received = await inbox.wait_for(1)
        assert received[0].subject == "New password for Stadt Teststadt"
    finally:
        loop_server.close()



async def test_a_mail_queued_before_mail_was_switched_off_is_dropped(
        visitors, sessions, make_config, smtp, booted):
    user_id, _ = await make_user(sessions, "anna")
    await _with_address(sessions, user_id, "anna@stadt.test")
    browser = visitors()
    await browser.get("/signin/forgot")
    await browser.post("/signin/forgot", {"who": "anna"})  # queued under this test's [mail]
    await _run_worker(make_config(), sessions)  # the worker now runs without [mail]
    async with sessions() as session:
        job = await session.scalar(select(Job).where(Job.kind == MAIL_JOB))
    assert (job.state, job.last_error) == (JobState.DONE, None) and smtp.received == []


async def test_a_post_from_the_feed_importer_mails_every_editor_of_the_account(sessions, config, smtp, booted):
    editor_id, _ = await make_user(sessions, "bernd", actors=("feuerwehr",))
    await _with_address(sessions, editor_id, "bernd@stadt.test", "de")
    importer = User(name="system:feed-import", role="editor")  # never stored, as in the importer
    async with sessions.begin() as session:
        actor_id = await session.scalar(select(Actor.id).where(Actor.name == "feuerwehr"))
        post = Post(actor_id=actor_id, state=PostState.AWAITING_APPROVAL, text="Import", language="de")
        session.add(post)
        await session.flush()
        assert await notices.approval_waiting(session, config, post, importer) == 1
    await _run_worker(config, sessions)
    received = await smtp.wait_for(1)
    assert received[0].recipients == ["bernd@stadt.test"]
    assert "system:feed-import hat einen Beitrag" in received[0].plain()


async def test_an_admin_creates_a_user_with_an_address_and_the_welcome_mail_names_no_password(
        visitors, sessions, config, smtp, booted):
    admin = await signed_in(visitors(), sessions, await admin_ready(sessions))
    page = await admin.get("/admin/users")
    assert 'id="email"' in page.text and 'id="welcome" name="welcome" checked' in page.text
    bad = await admin.post("/admin/users", {"name": "erika", "role": "editor", "actors": "stadt",
                                            "email": "erika at stadt", "welcome": "on"})
    assert bad.status == 422 and bad.has("this is not an e-mail address") and 'id="email-problem"' in bad.text
    assert 'value="erika at stadt"' in bad.text and 'value="erika"' in bad.text
    assert 'id="actor-stadt" name="actors" value="stadt" checked' in bad.text
    async with sessions() as session:
        assert await session.scalar(select(User).where(User.name == "erika")) is None  # nothing half-made
    both = await admin.post("/admin/users", {"name": "Erika Muster", "role": "editor", "actors": "stadt",
                                             "email": "erika at stadt"})
    assert both.status == 422 and both.has("this is not an e-mail address") and both.has("user names use")
    done = await admin.post("/admin/users", {"name": "erika", "role": "editor", "actors": "stadt",
                                             "email": "erika@stadt.test", "welcome": "on"})
    assert done.status == 200 and done.has("An e-mail tells erika their user name and where to sign in.")
    password = re.search(r'id="one-time-password">([^<]+)<', done.text).group(1)
    async with sessions() as session:
        erika = await session.scalar(select(User).where(User.name == "erika"))
    assert erika.email == "erika@stadt.test"
    await _run_worker(config, sessions)
    mail = (await smtp.wait_for(1))[0]
    assert mail.recipients == ["erika@stadt.test"] and mail.subject == "Your user at Stadt Teststadt"
    base = config.instance.base_url
    assert mail.links() == [f"{base}/signin", f"{base}/signin/forgot"] and "“erika”" in mail.plain()
    assert password not in mail.plain() and password not in mail.html()


async def test_without_the_welcome_box_or_an_address_no_mail_is_queued(visitors, sessions, config, booted):
    admin = await signed_in(visitors(), sessions, await admin_ready(sessions))
    await admin.get("/admin/users")
    quiet = await admin.post("/admin/users", {"name": "erika", "role": "editor", "email": "erika@stadt.test"})
    nobody = await admin.post("/admin/users", {"name": "dora", "role": "dpo", "welcome": "on"})
    assert quiet.status == nobody.status == 200 and not quiet.has("An e-mail tells")
    async with sessions() as session:
        assert (await session.scalars(select(Job).where(Job.kind == MAIL_JOB))).all() == []
