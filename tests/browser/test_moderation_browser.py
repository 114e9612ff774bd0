"""A moderator at a browser: finds the replies from the dashboard, approves one and asks its author for
consent to show it — all through the moderation view, with the forms' CSRF tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bridge.store.db import utcnow
from bridge.store.models import Actor, Job, Post, PostState
from bridge.runtime.secrets import load_or_create_secret
from bridge.auth.users import create_user
from browser_support import sign_in
from consent.ledger import ConsentRequest
from consent.models import Reply
from consent.replies import ReplyFacts, store_reply
from consent.signals import ProfileSignals, reply_snapshot
from consent.subjects import ActorFacts, remember_actor
from consent.vault import Vault

pytestmark = pytest.mark.browser
ALICE = "http://mastodon.test/users/alice"


async def a_reply(sessions, config) -> int:
    vault = Vault.from_secret(load_or_create_secret(config.instance.data_dir))
    async with sessions.begin() as session:
        actor_id = await session.scalar(select(Actor.id).where(Actor.name == "stadt"))
        post = Post(actor_id=actor_id, state=PostState.PUBLISHED, text="Der Markt ist offen.", language="de",
                    mirrors=[], published_at=utcnow())
        session.add(post)
        await session.flush()
        subject = await remember_actor(session, vault, ActorFacts(
            uri=ALICE, inbox=ALICE + "/inbox", handle="@alice@mastodon.test", name="Alice"))
        facts = ReplyFacts(object_id=ALICE + "/statuses/1", actor_name="stadt", post_id=post.id,
                           content_html="<p>Schön, danke!</p>", signals=reply_snapshot(ProfileSignals(), "public"))
        await store_reply(session, vault, subject, facts, timedelta(days=180))
        user, _ = await create_user(session, "mona", "editor", ["stadt"], password="monas-passwort-123")
        user.must_change_password = False
        return post.id


async def test_a_moderator_approves_a_reply_and_asks_for_consent(open_browser, server, sessions_for_server, config,
                                                                 requests_seen):
    await a_reply(sessions_for_server, config)
    page = await open_browser()
    await sign_in(page, "mona", "monas-passwort-123")
    await page.get_by_role("link", name="Moderate replies").click()
    await page.wait_for_url(re.compile(r"/editor/actors/stadt/replies$"))
    reply = page.locator("article.reply", has_text="Schön, danke!")
    assert "Awaiting moderation" in await reply.locator(".reply-state").inner_text()
    assert "Not asked" in await reply.locator(".consent").inner_text()

    await reply.get_by_role("button", name="Approve").click()
    await page.wait_for_url(re.compile(r"notice=moved"))
    assert "The reply's state was changed." in await page.locator("#notice").inner_text()
    reply = page.locator("article.reply", has_text="Schön, danke!")
    assert "Approved" in await reply.locator(".reply-state").inner_text()

    await reply.get_by_role("button", name="Ask for consent to show it").click()
    await page.wait_for_url(re.compile(r"notice=consent_requested"))
    assert "asked for consent in a direct message" in await page.locator("#notice").inner_text()
    reply = page.locator("article.reply", has_text="Schön, danke!")
    assert "Asked, no answer yet" in await reply.locator(".consent").inner_text()
    assert "no" == (await reply.locator(".shown").inner_text()).strip(), "not public before the author agrees"
    assert await reply.get_by_role("button", name="Ask for consent to show it").count() == 0

    async with sessions_for_server() as session:
        assert (await session.scalars(select(Reply.state))).all() == ["approved"]
        assert len((await session.scalars(select(ConsentRequest))).all()) == 1
        assert len((await session.scalars(select(Job).where(Job.kind == "deliver_direct"))).all()) == 1
    assert all(url.startswith(server + "/") for url in requests_seen)
