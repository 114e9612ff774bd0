""""Forgot password": the same answer for everyone, a single-use link valid 30 minutes received by a real
SMTP server, the new password ending every session and API token, and throttling per client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bridge.auth.passwords import purge_resets
from bridge.handlers import standard_worker
from bridge.queue.context import WorkerContext
from bridge.store.db import utcnow
from bridge.store.models import ApiToken, Job, PasswordReset, User, WebSession
from consent.models import AuditEntry
from support.mail import mail_section
from support.web import make_user, sign_in, signed_in, visitors  # noqa: F401


@pytest.fixture
def config(make_config, smtp):
    return make_config(mail=mail_section(smtp.port))


async def _anna(sessions, email: str | None = "anna@stadt.test") -> int:
    user_id, _ = await make_user(sessions, "anna")
    async with sessions.begin() as session:
        (await session.get(User, user_id)).email = email
    return user_id


async def _ask(visitor, who: str):
    await visitor.get("/signin/forgot")
    return await visitor.post("/signin/forgot", {"who": who})


async def _link(config, sessions, smtp, count: int = 1) -> str:
    await standard_worker(WorkerContext(config, sessions)).run_until_idle()
    received = await smtp.wait_for(count)
    return next(link for link in received[-1].links() if "/signin/reset/" in link)


async def test_the_answer_is_the_same_for_a_user_an_address_and_nobody(visitors, sessions, config, smtp, booted):
    await _anna(sessions)
    pages = [await _ask(visitors(), who) for who in ("anna", "ANNA@stadt.test", "nobody", "x@y.z")]
    assert {p.status for p in pages} == {200}
    texts = {p.text.split("<main", 1)[1].split("</main>", 1)[0] for p in pages}
    assert len({t.replace("ANNA@stadt.test", "").replace("anna", "").replace("nobody", "").replace("x@y.z", "")
                for t in texts}) == 1
    await standard_worker(WorkerContext(config, sessions)).run_until_idle()
    received = await smtp.wait_for(2)
    assert [m.recipients for m in received] == [["anna@stadt.test"], ["anna@stadt.test"]]


async def test_the_link_sets_a_new_password_once_and_ends_sessions_and_tokens(visitors, sessions, config, smtp,
                                                                            booted):
    user_id = await _anna(sessions)
    elsewhere = await signed_in(visitors(), sessions, user_id)
    async with sessions.begin() as session:
        session.add(ApiToken(token_sha256="a" * 64, user_id=user_id, actor_id=1, label="app"))
    await _ask(visitors(), "anna")
    link = await _link(config, sessions, smtp)
    path = link.removeprefix(config.instance.base_url)
    async with sessions() as session:  # only a hash of the token is stored
        stored = (await session.scalars(select(PasswordReset.token_hash))).all()
    assert path.rsplit("/", 1)[1] not in stored and len(stored) == 1
    browser = visitors()
    form = await browser.get(path)
    assert form.status == 200 and form.has("Set a new password")
    short = await browser.post(path, {"new": "kurz", "repeat": "kurz"})
    assert short.status == 422 and short.has("the password needs at least 12 characters")
    differ = await browser.post(path, {"new": "ein langes neues Passwort", "repeat": "ein anderes Passwort!"})
    assert differ.status == 422 and differ.has("the two passwords differ")
    done = await browser.post(path, {"new": "ein langes neues Passwort", "repeat": "ein langes neues Passwort"})
    assert (done.status, done.location) == (303, "/signin?reset=1")
    assert (await elsewhere.get("/editor")).status == 303  # signed out everywhere
    async with sessions() as session:
        assert (await session.scalar(select(ApiToken))).revoked_at is not None
        assert not (await session.scalars(select(WebSession).where(WebSession.user_id == user_id))).all()
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "password.reset_requested" in actions and "password.reset" in actions
    again = await visitors().get(path)
    assert again.status == 410 and again.has("This link was used already or has expired.")
    assert (await sign_in(visitors(), "anna", "ein langes neues Passwort")).status == 303


async def test_an_expired_link_is_gone_and_old_links_are_purged(visitors, sessions, config, smtp, booted):
    await _anna(sessions)
    await _ask(visitors(), "anna")
    link = await _link(config, sessions, smtp)
    async with sessions.begin() as session:
        await session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    page = await visitors().get(link.removeprefix(config.instance.base_url))
    assert page.status == 410
    async with sessions.begin() as session:
        assert await purge_resets(session, utcnow()) == 0  # kept a day after expiry
        assert await purge_resets(session, utcnow() + timedelta(days=1, minutes=1)) == 1


async def test_a_user_without_an_address_gets_no_mail_and_a_mail_is_not_sent_for_a_used_link(
        visitors, sessions, config, smtp, booted):
    await _anna(sessions, email=None)
    page = await _ask(visitors(), "anna")
    assert page.status == 200
    async with sessions() as session:
        assert (await session.scalars(select(Job).where(Job.kind == "mail"))).all() == []


async def test_asking_too_often_from_one_client_is_throttled_without_telling_who_exists(visitors, sessions,
                                                                                        booted):
    browser = visitors()
    for i in range(5):
        assert (await _ask(browser, f"guess{i}")).status == 200
    page = await _ask(browser, "anna")
    assert page.status == 429 and page.headers["Retry-After"] == "900"
    assert page.has("Too many requests from your network.")
    assert 'value="anna"' in page.text  # what was typed stays


async def test_an_empty_request_is_answered_next_to_the_field(visitors, booted):
    page = await _ask(visitors(), "  ")
    assert page.status == 422 and page.has("Enter your user name or your e-mail address.")
    assert 'aria-describedby="who-problem"' in page.text


async def test_without_mail_the_sign_in_page_offers_no_link_and_nothing_is_stored(make_config, aiohttp_client,
                                                                                  booted):
    from bridge.appkeys import SESSIONS
    from support.web import Visitor, client_for
    client = await client_for(aiohttp_client, make_config())
    sessions = client.app[SESSIONS]
    await _anna(sessions)
    visitor = Visitor(client)
    try:
        assert not (await visitor.get("/signin")).has("Forgot password?")
        page = await _ask(visitor, "anna")
        assert page.status == 200
    finally:
        await visitor.close()
    async with sessions() as session:
        assert (await session.scalars(select(PasswordReset))).all() == []
