"""The dialogue desk and the answer page for platform replies, over HTTP on a real database: what an editor
sees (only the accounts they work for), assignment, "no answer needed", templates with placeholders, the
answer queued for the platform (or kept as a draft), and the time to a first answer in the desk and /metrics."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.platforms.answers import ANSWER_JOB
from bridge.publishing import posts
from bridge.store.db import utcnow
from bridge.store.dialogue import ReplyHandling
from bridge.store.models import Job, Role
from bridge.store.platforms import AccountStatus, AnswerState, PlatformAccount, PlatformAnswer, PlatformSend
from consent.models import AuditEntry
from consent.platform_replies import store_platform_reply
from support.mirroring import PLATFORMS
from support.web import Visitor, client_for, signed_in
from testkit import add_user



@pytest.fixture
async def desk(aiohttp_client, make_config, booted, test_password_hash):
    config = make_config(platforms=PLATFORMS)
    client = await client_for(aiohttp_client, config)
    sessions = client.app[SESSIONS]
    async with sessions.begin() as s:
        erika = await add_user(s, "erika", Role.EDITOR, ["stadt"], test_password_hash)
        bernd = await add_user(s, "bernd", Role.EDITOR, ["stadt"], test_password_hash)
        await add_user(s, "fritz", Role.EDITOR, [], test_password_hash)  # works for no account
        post = (await posts.create_post(s, config, erika, posts.Draft("stadt", "Neue Öffnungszeiten"))).post
        for platform_id in ("masto", "tg"):
            s.add(PlatformSend(post_id=post.id, platform_id=platform_id, state="sent", handle=f"h-{platform_id}",
                               remote_id="100", remote_extra={}, attempts=1, sent_at=utcnow()))
    vault = client.app[FEDERATION].vault
    replies = {}
    async with sessions.begin() as s:
        for n, (platform_id, kind, text) in enumerate((("masto", "mastodon", "Auch samstags?"),
                                                        ("tg", "telegram", "Danke für die Info"))):
            stored = await store_platform_reply(
                s, vault, platform_kind=kind, platform_id=platform_id, author_id=f"{kind}:person{n}",
                reply_id=f"{kind}:reply{n}", text=text, url=None, post_id=post.id, actor_name="stadt",
                retention=timedelta(days=180), now=utcnow() - timedelta(hours=3 - n))
            replies[platform_id] = stored.reply_id
    visitor = await signed_in(Visitor(client), sessions, erika.id)
    yield client, sessions, visitor, replies, {"erika": erika.id, "bernd": bernd.id}
    await visitor.close()


async def test_the_desk_lists_replies_open_newest_first_with_platform_and_waiting_time(desk):
    _, _, erika, replies, _ = desk
    page = await erika.get("/editor/dialogue")
    assert page.status == 200
    assert page.has("Auch samstags?") and page.has("Danke für die Info")
    assert page.text.index("Danke für die Info") < page.text.index("Auch samstags?")  # the newer first
    assert page.has("Waiting since") and page.has("masto") and page.has("tg")
    assert page.has("2 hours") and page.has("3 hours")


async def test_an_editor_of_other_accounts_sees_none_of_these_replies(desk):
    client, sessions, _, _, _ = desk
    async with sessions() as s:
        from bridge.store.models import User
        fritz = await s.scalar(select(User).where(User.name == "fritz"))
    other = await signed_in(Visitor(client), sessions, fritz.id)
    try:
        page = await other.get("/editor/dialogue")
        assert page.status == 200 and not page.has("Auch samstags?") and page.has("No replies here.")
    finally:
        await other.close()


async def test_a_reply_is_assigned_to_a_colleague_and_not_to_someone_outside_the_account(desk):
    _, sessions, erika, replies, users = desk
    await erika.get("/editor/dialogue")
    page = await erika.post(f"/editor/dialogue/{replies['masto']}/assign", {"assignee": str(users["bernd"])})
    assert page.location.endswith("notice=assigned")
    async with sessions() as s:
        from bridge.store.models import User
        fritz = await s.scalar(select(User).where(User.name == "fritz"))
        assert (await s.get(ReplyHandling, replies["masto"])).assignee_id == users["bernd"]
    page = await erika.post(f"/editor/dialogue/{replies['masto']}/assign", {"assignee": str(fritz.id)})
    assert page.location.endswith("notice=not_colleague")
    page = await erika.get("/editor/dialogue")
    assert f'<option value="{users["bernd"]}" selected>bernd</option>' in page.text
    async with sessions() as s:
        entries = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "reply.assigned"))).all()
    assert len(entries) == 1 and "bernd" not in str(entries[0].details.get("assignee"))  # a user reference


async def test_no_answer_needed_leaves_the_open_list_and_can_be_opened_again(desk):
    _, _, erika, replies, _ = desk
    await erika.get("/editor/dialogue")
    page = await erika.post(f"/editor/dialogue/{replies['tg']}/handling", {"to": "no_answer_needed"})
    assert page.status == 303
    assert not (await erika.get("/editor/dialogue?show=open")).has("Danke für die Info")
    assert (await erika.get("/editor/dialogue")).has("no answer needed")
    assert (await erika.post(f"/editor/dialogue/{replies['tg']}/handling", {"to": "answered"})).status == 400
    await erika.post(f"/editor/dialogue/{replies['tg']}/handling", {"to": "open"})
    assert (await erika.get("/editor/dialogue?show=open")).has("Danke für die Info")


async def test_templates_are_checked_kept_when_wrong_and_filled_into_the_answer(desk):
    _, sessions, erika, replies, _ = desk
    await erika.get("/editor/dialogue")
    page = await erika.post("/editor/dialogue/templates", {"actor": "stadt", "title": "", "body": "Hallo {konto}"})
    assert page.status == 422 and page.has("Give the template a title.") and "Hallo {konto}" in page.text
    page = await erika.post("/editor/dialogue/templates", {"actor": "feuerwehr", "title": "x", "body": "y"})
    assert page.status == 403
    page = await erika.post("/editor/dialogue/templates",
                            {"actor": "stadt", "title": "Öffnungszeiten", "body": "{konto}: siehe {beitrag} ({datum})"})
    assert page.location.endswith("notice=template_added")
    async with sessions() as s:
        from bridge.store.dialogue import AnswerTemplate
        template = await s.scalar(select(AnswerTemplate))
    page = await erika.get(f"/editor/replies/{replies['masto']}/answer?template={template.id}")
    assert page.has("Öffnungszeiten") and page.has("Stadt Teststadt: siehe http")
    assert utcnow().strftime("%Y") in page.text and "{beitrag}" not in page.text.split("<textarea")[1]


async def test_an_answer_is_queued_for_the_platform_and_shown_with_its_state(desk):
    _, sessions, erika, replies, _ = desk
    await erika.get(f"/editor/replies/{replies['masto']}/answer")
    page = await erika.post(f"/editor/replies/{replies['masto']}/answer", {"text": "Ja, samstags 9–12 Uhr."})
    assert page.status == 303 and page.location.endswith("?sent=1")
    page = await erika.get(page.location)
    assert page.has("Ja, samstags 9–12 Uhr.") and page.has("being sent")
    async with sessions() as s:
        row = await s.scalar(select(PlatformAnswer))
        job = await s.scalar(select(Job).where(Job.kind == ANSWER_JOB))
        assert row.state == AnswerState.QUEUED and row.created_by.startswith("user:")
        assert job is not None and job.payload["answer_id"] == row.id


async def test_a_too_long_answer_keeps_the_text_and_says_the_limit(desk):
    _, _, erika, replies, _ = desk
    await erika.get(f"/editor/replies/{replies['masto']}/answer")
    page = await erika.post(f"/editor/replies/{replies['masto']}/answer", {"text": "x" * 600})
    assert page.status == 422 and page.has("The answer has 600 characters; the platform allows at most 500.")
    assert "x" * 600 in page.text


async def test_an_answer_while_the_account_needs_reconnecting_is_kept_as_a_draft(desk):
    _, sessions, erika, replies, _ = desk
    async with sessions.begin() as s:
        s.add(PlatformAccount(platform_id="tg", status=AccountStatus.RECONNECT_NEEDED, limits={}, updated_at=utcnow()))
    await erika.get(f"/editor/replies/{replies['tg']}/answer")
    page = await erika.post(f"/editor/replies/{replies['tg']}/answer", {"text": "Gern!"})
    page = await erika.get(page.location)
    assert page.has("draft: sent once the account is reconnected")
    async with sessions() as s:
        assert (await s.scalar(select(PlatformAnswer))).state == AnswerState.DRAFT
        assert await s.scalar(select(Job).where(Job.kind == ANSWER_JOB)) is None


async def test_unknown_answers_offer_the_editors_decision(desk):
    _, sessions, erika, replies, _ = desk
    await erika.get(f"/editor/replies/{replies['tg']}/answer")
    await erika.post(f"/editor/replies/{replies['tg']}/answer", {"text": "Gern!"})
    async with sessions.begin() as s:
        row = await s.scalar(select(PlatformAnswer))
        row.state, row.reason = AnswerState.UNKNOWN, "undecidable"
    page = await erika.get(f"/editor/replies/{replies['tg']}/answer")
    assert page.has("It is unclear whether the answer arrived")
    page = await erika.post(f"/editor/replies/{replies['tg']}/answer/decide", {"answer": str(row.id),
                                                                            "decision": "mark_sent"})
    assert page.status == 303
    async with sessions() as s:
        assert (await s.get(PlatformAnswer, row.id)).state == AnswerState.SENT
        handling = await s.get(ReplyHandling, replies["tg"])
        assert handling.state == "answered" and handling.first_answer_at is not None
    page = await erika.post(f"/editor/replies/{replies['tg']}/answer/decide", {"answer": "x", "decision": "retry"})
    assert page.status == 404
    page = await erika.post(f"/editor/replies/{replies['tg']}/answer/decide", {"answer": str(row.id), "decision": "?"})
    assert page.status == 400


async def test_time_to_first_answer_is_shown_per_account_and_in_metrics(desk):
    client, sessions, erika, replies, _ = desk
    async with sessions.begin() as s:
        from consent.models import Reply
        for reply_id, hours in ((replies["masto"], 1), (replies["tg"], 5)):
            reply = await s.get(Reply, reply_id)
            s.add(ReplyHandling(reply_id=reply_id, actor_name="stadt", state="answered", received_at=reply.received_at,
                                first_answer_at=reply.received_at + timedelta(hours=hours), updated_at=utcnow()))
    page = await erika.get("/editor/dialogue")
    row = page.text.split("Stadt Teststadt</th>")[1].split("</tr>")[0]
    assert "60 minutes" in row and "5 hours" in row
    metrics = await client.get("/metrics")
    text = await metrics.text()
    assert 'stadtbote_dialogue_first_answer_seconds{account="stadt",quantile="0.5"} 3600.0' in text
    assert 'stadtbote_dialogue_first_answer_seconds{account="stadt",quantile="0.9"} 18000.0' in text
    assert 'stadtbote_dialogue_answered_replies{account="stadt"} 2.0' in text


async def test_on_an_account_with_four_eyes_approval_a_second_editor_lets_the_answer_go_out(desk,
                                                                                          test_password_hash):
    client, sessions, _, _, _ = desk
    async with sessions.begin() as s:
        fiona = await add_user(s, "fiona", Role.EDITOR, ["feuerwehr"], test_password_hash)
        felix = await add_user(s, "felix", Role.EDITOR, ["feuerwehr"], test_password_hash)
        post = (await posts.create_post(s, client.app[CONFIG], fiona,
                                        posts.Draft("feuerwehr", "Übung am Samstag"))).post
        post.state = "published"  # approved meanwhile; what matters here is the answer
        s.add(PlatformSend(post_id=post.id, platform_id="masto", state="sent", handle="h-fw", remote_id="200",
                           remote_extra={}, attempts=1, sent_at=utcnow()))
    async with sessions.begin() as s:
        stored = await store_platform_reply(
            s, client.app[FEDERATION].vault, platform_kind="mastodon", platform_id="masto", author_id="mastodon:p9",
            reply_id="mastodon:fw1", text="Wird es laut?", url=None, post_id=post.id, actor_name="feuerwehr",
            retention=timedelta(days=180), now=utcnow())
    writer = await signed_in(Visitor(client), sessions, fiona.id)
    checker = await signed_in(Visitor(client), sessions, felix.id)
    try:
        await writer.get(f"/editor/replies/{stored.reply_id}/answer")
        page = await writer.post(f"/editor/replies/{stored.reply_id}/answer", {"text": "Ja, kurz gegen 10 Uhr."})
        page = await writer.get(page.location)
        assert page.has("awaiting approval by a second editor") and not page.has("Approve and send")
        async with sessions() as s:
            row = await s.scalar(select(PlatformAnswer).where(PlatformAnswer.reply_id == stored.reply_id))
            assert row.state == AnswerState.AWAITING_APPROVAL
            assert await s.scalar(select(Job).where(Job.kind == ANSWER_JOB)) is None
        own = await writer.post(f"/editor/replies/{stored.reply_id}/answer/approve", {"answer": str(row.id)})
        assert own.status == 409 and own.has("a second editor must approve it")
        page = await checker.get(f"/editor/replies/{stored.reply_id}/answer")
        assert page.has("Approve and send")
        page = await checker.post(f"/editor/replies/{stored.reply_id}/answer/approve", {"answer": str(row.id)})
        assert page.status == 303
        async with sessions() as s:
            assert (await s.get(PlatformAnswer, row.id)).state == AnswerState.QUEUED
            assert await s.scalar(select(Job).where(Job.kind == ANSWER_JOB)) is not None
    finally:
        await writer.close()
        await checker.close()


async def test_older_replies_are_a_page_further_and_the_filter_goes_along(desk, monkeypatch):
    client, sessions, erika, replies, _ = desk
    monkeypatch.setattr("bridge.web.editor.dialogue.LIMIT", 2)
    vault = client.app[FEDERATION].vault
    async with sessions.begin() as s:  # two more, older than the fixture's two (3 and 2 hours)
        for n, hours in ((7, 5), (8, 4)):
            await store_platform_reply(
                s, vault, platform_kind="mastodon", platform_id="masto", author_id=f"mastodon:person{n}",
                reply_id=f"mastodon:reply{n}", text=f"Frage {n}", url=None, post_id=None, actor_name="stadt",
                retention=timedelta(days=180), now=utcnow() - timedelta(hours=hours))
    first = await erika.get("/editor/dialogue")
    assert first.has("Danke für die Info") and first.has("Auch samstags?") and not first.has("Frage 8")
    older = re.search(r'href="(/editor/dialogue\?show=all&amp;before=\d+)" rel="next"', first.text)
    assert older and first.has("Older replies")
    second = await erika.get(unescape(older.group(1)))
    assert second.status == 200 and second.has("Frage 8") and second.has("Frage 7")
    assert not second.has("Auch samstags?") and "rel=\"next\"" not in second.text  # the last page
    # "no answer needed" for the newest: the open filter's first page reaches one reply further back.
    await erika.post(f"/editor/dialogue/{replies['tg']}/handling", {"to": "no_answer_needed"})
    open_page = await erika.get("/editor/dialogue?show=open")
    assert open_page.has("Auch samstags?") and open_page.has("Frage 8") and not open_page.has("Danke für die Info")
    older = re.search(r'href="(/editor/dialogue\?show=open&amp;before=\d+)" rel="next"', open_page.text)
    assert older  # the filter is kept in the link
    last = await erika.get(unescape(older.group(1)))
    assert last.has("Frage 7") and not last.has("Frage 8") and not last.has("Danke für die Info")
