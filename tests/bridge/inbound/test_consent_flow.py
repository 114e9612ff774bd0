"""Consent to show a reply, end to end: a citizen on Mastodon replies, a moderator approves it and asks
by direct message, the citizen answers "JA" (signed), the reply appears on the post's public page, and
"STOP" (or an Undo, a Delete, the one-click link) takes it off again at once."""

from __future__ import annotations

import hashlib
import re
from html import unescape

from sqlalchemy import select

from activitypub.uris import PUBLIC
from bridge.appkeys import FEDERATION, SESSIONS
from bridge.privacy.consent_requests import request_text
from consent.ledger import ConsentRequest, ConsentText
from consent.models import Reply, Subject
from fakes.fediverse import undo
from support.inbox import CITY, audit, instances, mastodon, network, run_jobs, stadt  # noqa: F401
from support.moderation import answer, ask_and_deliver, moderator, public_page, receipts, replied, send
from support.web import visitors  # noqa: F401

CONTENT = "Danke für die Info!"


async def approve(mona, reply_id: int) -> None:
    page = await mona.post(f"/editor/replies/{reply_id}/state", {"to": "approve"})
    assert page.status == 303 and "notice=moved" in page.location


async def consented(stadt, mastodon, visitors):
    """Reply → pending → approved → asked → "JA": everything the withdrawal tests start from."""
    post_id, alice, create, reply_id = await replied(stadt, mastodon)
    mona = await moderator(visitors, stadt)
    await approve(mona, reply_id)
    dm = await ask_and_deliver(stadt, mona, mastodon, reply_id, alice)
    yes = answer(alice, dm, "JA", 2)
    assert await send(stadt, mastodon, alice, yes) == (202, {"status": "consent_given"})
    assert CONTENT in await public_page(stadt, post_id)
    return post_id, alice, create, reply_id, dm, yes, mona


async def test_reply_pending_then_consent_by_ja_shows_it_and_stop_removes_it_at_once(stadt, mastodon, visitors,
                                                                                      config):
    post_id, alice, create, reply_id = await replied(stadt, mastodon)
    async with stadt.app[SESSIONS]() as session:
        assert (await session.get(Reply, reply_id)).state == "pending"
    assert CONTENT not in await public_page(stadt, post_id)
    mona = await moderator(visitors, stadt)
    await approve(mona, reply_id)
    assert CONTENT not in await public_page(stadt, post_id), "approval alone never shows a reply"

    dm = await ask_and_deliver(stadt, mona, mastodon, reply_id, alice)
    note = dm["object"]
    assert dm["actor"] == CITY and note["attributedTo"] == CITY
    assert dm["to"] == note["to"] == [alice.uri] and dm["cc"] == note["cc"] == []
    assert PUBLIC not in str(dm), "a direct message is addressed to the author alone"
    assert note["tag"] == [{"type": "Mention", "href": alice.uri, "name": "@alice@mastodon.test"}]
    assert note["inReplyTo"] == create["object"]["id"]
    link = re.search(r'href="(http://stadt\.test/consent/withdraw\?t=[^"]+)"', note["content"]).group(1)
    assert "JA" in note["content"] and "YES" in note["content"] and "STOP" in note["content"]

    yes = answer(alice, dm, "JA", 2)
    assert await send(stadt, mastodon, alice, yes) == (202, {"status": "consent_given"})
    [receipt] = await receipts(stadt)
    vault = stadt.app[FEDERATION].vault
    async with stadt.app[SESSIONS]() as session:
        subject = await session.get(Subject, receipt.subject_id)
        text = await session.get(ConsentText, receipt.text_sha256)
    expected = hashlib.sha256(request_text(config.consent).encode()).hexdigest()
    assert receipt.text_sha256 == expected and text.text.startswith("Guten Tag!")
    assert (receipt.state, receipt.purpose, receipt.reply_id) == ("given", "public_replies", reply_id)
    assert vault.open(subject, "consent_receipt.activity_id", receipt.enc_activity_id) == yes["id"]
    assert vault.open(subject, "consent_receipt.key_id", receipt.enc_key_id) == alice.key_id
    page = await public_page(stadt, post_id)
    assert CONTENT in page and "Alice" in page and alice.uri in page
    for feed in ("/@stadt.rss", "/@stadt.atom", "/@stadt.json", "/feed.rss"):
        response = await stadt.get(feed)
        assert response.status == 200 and CONTENT not in await response.text(), "feeds never carry replies"

    stop = answer(alice, dm, "STOP", 3)
    assert await send(stadt, mastodon, alice, stop) == (202, {"status": "consent_withdrawn"})
    assert CONTENT not in await public_page(stadt, post_id)
    [receipt] = await receipts(stadt)
    assert (receipt.state, receipt.withdrawal_channel) == ("withdrawn", "dm_answer")
    assert [e.reason for e in await audit(stadt, "consent.given")] == ["dm_answer"]
    withdrawn = await audit(stadt, "consent.withdrawn")
    assert [(e.reason, e.subject_ref, e.purpose) for e in withdrawn] == [("dm_answer", subject.pseudonym,
                                                                          "public_replies")]
    assert link  # used in test_withdrawal_by_the_one_click_link


async def test_withdrawal_by_undo_of_the_answer(stadt, mastodon, visitors):
    post_id, alice, _, _, _, yes, _ = await consented(stadt, mastodon, visitors)
    assert await send(stadt, mastodon, alice, undo(alice, yes)) == (202, {"status": "consent_withdrawn"})
    assert CONTENT not in await public_page(stadt, post_id)
    assert [(r.state, r.withdrawal_channel) for r in await receipts(stadt)] == [("withdrawn", "undo")]


async def test_withdrawal_by_delete_of_the_reply_erases_it(stadt, mastodon, visitors):
    post_id, alice, create, reply_id, _, _, _ = await consented(stadt, mastodon, visitors)
    delete = {"id": f"{create['object']['id']}#delete", "type": "Delete", "actor": alice.uri,
              "object": {"id": create["object"]["id"], "type": "Tombstone"}}
    assert await send(stadt, mastodon, alice, delete) == (202, {"status": "reply_erased"})
    assert CONTENT not in await public_page(stadt, post_id)
    assert await receipts(stadt) == []  # the receipt went with the reply; the audit log keeps the proof
    assert [e.reason for e in await audit(stadt, "consent.withdrawn")] == ["delete_reply"]
    async with stadt.app[SESSIONS]() as session:
        assert await session.get(Reply, reply_id) is None


async def test_withdrawal_by_delete_of_the_answer(stadt, mastodon, visitors):
    post_id, alice, _, _, _, yes, _ = await consented(stadt, mastodon, visitors)
    delete = {"id": f"{yes['object']['id']}#delete", "type": "Delete", "actor": alice.uri,
              "object": {"id": yes["object"]["id"], "type": "Tombstone"}}
    assert await send(stadt, mastodon, alice, delete) == (202, {"status": "consent_withdrawn"})
    assert CONTENT not in await public_page(stadt, post_id)


async def test_withdrawal_by_the_one_click_link_needs_no_cookie_but_a_form_token(stadt, mastodon, visitors):
    post_id, alice, _, _, dm, _, _ = await consented(stadt, mastodon, visitors)
    link = unescape(re.search(r'href="http://stadt\.test(/consent/withdraw\?t=[^"]+)"', dm["object"]["content"])
                    .group(1))
    citizen = visitors(stadt)
    page = await citizen.get(link)
    assert page.status == 200 and page.set_cookies == [] and page.has("Withdraw my consent")
    assert page.headers["Cache-Control"] == "no-store" and CONTENT not in page.text
    token = link.partition("t=")[2]
    refused = await citizen.post("/consent/withdraw", {"t": token}, csrf=False)
    assert refused.status == 403
    assert CONTENT in await public_page(stadt, post_id)
    done = await citizen.post("/consent/withdraw", {"t": token})
    assert done.status == 200 and done.has("Your consent is withdrawn") and done.set_cookies == []
    assert CONTENT not in await public_page(stadt, post_id)
    assert [(r.state, r.withdrawal_channel) for r in await receipts(stadt)] == [("withdrawn", "link")]
    [entry] = await audit(stadt, "consent.withdrawn")
    assert (entry.actor_role, entry.reason) == ("anonymous", "link")
    async with stadt.app[SESSIONS]() as session:
        request = await session.scalar(select(ConsentRequest))
    assert request.closed_by == "link" and token not in str(request.token_sha256)
    mona = await moderator(visitors, stadt, "max")
    page = await mona.post(f"/editor/replies/{request.reply_id}/consent")
    assert "notice=declined_before" in page.location, "after a withdrawal nobody asks again"
    assert (await citizen.get("/consent/withdraw?t=not-a-token")).status == 404


async def test_an_opt_out_signal_beats_consent(stadt, mastodon, visitors):
    post_id, alice, _, _, _, _, _ = await consented(stadt, mastodon, visitors)
    alice.fields["summary"] = "<p>Hallo #nobot</p>"
    update = {"id": f"{alice.uri}#updates/1", "type": "Update", "actor": alice.uri, "object": alice.document()}
    assert await send(stadt, mastodon, alice, update) == (202, {"status": "subject_updated"})
    assert CONTENT not in await public_page(stadt, post_id)
    assert [r.state for r in await receipts(stadt)] == ["given"], "consent stays on record, the signal wins"


async def test_only_the_person_asked_can_answer_and_unclear_answers_change_nothing(stadt, mastodon, visitors):
    post_id, alice, _, reply_id = await replied(stadt, mastodon)
    mona = await moderator(visitors, stadt)
    await approve(mona, reply_id)
    dm = await ask_and_deliver(stadt, mona, mastodon, reply_id, alice)
    bob = mastodon.add_actor("bob")
    await replied(stadt, mastodon, "bob", number=7)  # so that bob is known here
    assert await send(stadt, mastodon, bob, answer(bob, dm, "JA", 8)) == (202, {"status": "not_author"})
    assert await send(stadt, mastodon, alice, answer(alice, dm, "Wozu?", 9)) == (202, {"status": "consent_unclear"})
    assert await receipts(stadt) == []
    assert CONTENT not in await public_page(stadt, post_id)
