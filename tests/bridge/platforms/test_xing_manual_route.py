"""XING's manual route: nothing is sent (XING has no publishing API for company pages); the post's platform page
prepares the text in XING's limits with a share link, an editor posts it by hand and marks it done, and the
transfer log records who did it and when."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select

from bridge.appkeys import SESSIONS
from bridge.platforms import sends as mirroring
from bridge.platforms.connectors.base import Outcome
from bridge.platforms.connectors.xing import XingConnector
from bridge.publishing import posts
from bridge.store.models import Role
from bridge.store.platforms import PlatformSend, SendState
from consent.models import AuditEntry
from fakes.platforms import Clock, platform, state, view
from support.mirroring import TRANSFER, start_bridge
from support.web import Visitor, client_for, signed_in
from testkit import add_user

XING = {"id": "xing", "kind": "xing", "api_base": "https://www.xing.com", "page_url": "https://www.xing.com/pages/stadt",
        "text_limit": 200, **{**TRANSFER, "country": "DE", "transfer_mechanism": "none (EU)"}}


def test_the_text_is_prepared_in_xings_limit_with_a_share_link():
    connector = XingConnector(platform("xing", "https://www.xing.com", text_limit=200), None, state(), Clock())
    post = view("Stellenausschreibung: Sachbearbeitung im Bürgerbüro. " * 8)
    rendered = connector.render(post)
    assert rendered.shortened and rendered.length <= 200 and rendered.text.endswith(post.permalink)
    assert rendered.extra["share_url"] == "https://www.xing.com/spi/shares/new?url=" + quote(post.permalink, safe="")
    assert connector.capabilities().manual_route and not connector.capabilities().replies_readable
    default = XingConnector(platform("xing", "https://www.xing.com"), None, state(), Clock())
    assert default.render(view("Kurz")).limit == 3000


async def test_a_xing_send_waits_for_an_editor_and_marking_it_done_is_a_transfer_entry(make_config, sessions_only,
                                                                                       aiohttp_server,
                                                                                       test_password_hash):
    bridge, closing = await start_bridge(make_config, sessions_only, aiohttp_server, test_password_hash,
                                         platforms=[XING])
    try:
        post_id = await bridge.post("Neue Ausbildungsplätze bei der Stadt", mirrors=("xing",))
        await bridge.run()
        row = await bridge.send(post_id, "xing")
        assert row.state == SendState.BY_HAND and row.reason == "manual_route"
        async with bridge.sessions() as s:
            assert (await s.scalars(select(AuditEntry).where(AuditEntry.action == "platform.transfer"))).all() == []
        xing = bridge.config.platforms[0]
        async with bridge.sessions.begin() as s:
            assert await mirroring.mark_by_hand(s, post_id, xing, "editor", "user:1", "anna")
            assert not await mirroring.mark_by_hand(s, post_id, xing, "editor", "user:1", "anna")  # once only
        row = await bridge.send(post_id, "xing")
        assert row.state == SendState.SENT and row.remote_extra["by"] == "user:1" and row.sent_at is not None
        async with bridge.sessions() as s:
            transfer = await s.scalar(select(AuditEntry).where(AuditEntry.action == "platform.transfer"))
        assert transfer.actor_ref == "user:1" and transfer.details["action"] == "publish_by_hand"
        assert transfer.details["country"] == "DE" and transfer.details["platform"] == "xing"
        await bridge.delete(post_id)
        await bridge.run()
        assert (await bridge.send(post_id, "xing")).state == SendState.MANUAL  # remove it on XING by hand
    finally:
        for federation in closing:
            await federation.close()


async def test_a_post_deleted_before_it_was_posted_by_hand_is_cancelled(make_config, sessions_only, aiohttp_server,
                                                                       test_password_hash):
    bridge, closing = await start_bridge(make_config, sessions_only, aiohttp_server, test_password_hash,
                                         platforms=[XING])
    try:
        post_id = await bridge.post("Versehentlich", mirrors=("xing",))
        await bridge.run()
        await bridge.delete(post_id)
        await bridge.run()
        assert (await bridge.send(post_id, "xing")).state == SendState.CANCELLED
        result = await XingConnector(bridge.config.platforms[0], None, state(), Clock()).publish(None, "h")
        assert result.outcome is Outcome.MANUAL  # the contract: never a request to XING
    finally:
        for federation in closing:
            await federation.close()


async def test_the_posts_platform_page_shows_the_route_and_records_who_marked_it_done(aiohttp_client, make_config,
                                                                                     booted, test_password_hash):
    config = make_config(platforms=[XING])
    client = await client_for(aiohttp_client, config)
    sessions = client.app[SESSIONS]
    async with sessions.begin() as s:
        erika = await add_user(s, "erika", Role.EDITOR, ["stadt"], test_password_hash)
        post = (await posts.create_post(s, config, erika, posts.Draft("stadt", "Jobmesse im Rathaus",
                                                                      mirrors=("xing",)))).post
        row = await s.scalar(select(PlatformSend))
        row.state = SendState.BY_HAND  # as the worker leaves it
    visitor = await signed_in(Visitor(client), sessions, erika.id)
    try:
        page = await visitor.get(f"/editor/posts/{post.id}/mirrors")
        assert page.has("to be posted by hand") and page.has("Jobmesse im Rathaus")
        assert "https://www.xing.com/spi/shares/new?url=" in page.text and page.has("Done: posted on XING by hand")
        page = await visitor.post(f"/editor/posts/{post.id}/mirrors/xing/done")
        assert page.status == 303
        page = await visitor.get(f"/editor/posts/{post.id}/mirrors")
        assert page.has("Posted by hand by erika on") and not page.has("Done: posted on XING by hand")
        assert (await visitor.post(f"/editor/posts/{post.id}/mirrors/nope/done")).status == 404
    finally:
        await visitor.close()
