"""Helpers for the moderation and consent tests: a citizen on a fake Mastodon who replies, a moderator's
browser on the same app, the DM we send, and the citizen's signed answers to it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bridge.appkeys import SESSIONS
from consent.ledger import ConsentReceipt
from consent.models import Reply
from fakes.fediverse import AS_CONTEXT, FakeActor, FakeInstance, mastodon_reply
from support.inbox import note_uri, publish, run_jobs
from support.web import Visitor, make_user, signed_in

STADT_INBOX = "/users/stadt/inbox"


async def replied(stadt, mastodon: FakeInstance, name: str = "alice", content: str = "<p>Danke für die Info!</p>",
                  number: int = 1, **actor_fields) -> tuple[int, FakeActor, dict, int]:
    """A published post and a public reply to it from `name`: (post id, actor, Create, reply id)."""
    post_id = await publish(stadt)
    actor = mastodon.actors.get(f"/users/{name}") or mastodon.add_actor(name, **actor_fields)
    create = mastodon_reply(actor, note_uri(post_id), "http://stadt.test/users/stadt", number, content)
    status, body = await mastodon.sign_and_post(stadt, create, actor, path=STADT_INBOX)
    assert (status, body) == (202, {"status": "reply_stored"})
    return post_id, actor, create, await reply_id_of(stadt)


async def reply_id_of(stadt) -> int:
    async with stadt.app[SESSIONS]() as session:
        return await session.scalar(select(Reply.id).order_by(Reply.id.desc()).limit(1))


async def moderator(visitors, stadt, name: str = "mona", actors=("stadt",)) -> Visitor:
    user_id, _ = await make_user(stadt.app[SESSIONS], name, "editor", actors)
    return await signed_in(visitors(stadt), stadt.app[SESSIONS], user_id)


async def ask_and_deliver(stadt, mona: Visitor, mastodon: FakeInstance, reply_id: int, actor: FakeActor) -> dict:
    """The moderator asks; the worker delivers; the DM as the author's server received it."""
    page = await mona.post(f"/editor/replies/{reply_id}/consent")
    assert page.status == 303 and "notice=consent_requested" in page.location, page.location
    await run_jobs(stadt)
    dms = [r for r in mastodon.received if r.path == f"/users/{actor.name}/inbox" and r.json["type"] == "Create"]
    assert dms, "the DM was not delivered"
    assert dms[-1].verified, "the fake instance could not verify our signature"
    return dms[-1].json


def answer(actor: FakeActor, dm: dict, text: str, number: int) -> dict[str, Any]:
    """The author's reply to our DM, as Mastodon sends a direct answer: addressed to us, with a Mention."""
    note_id = f"{actor.uri}/statuses/{number}"
    city = dm["actor"]
    note = {"id": note_id, "type": "Note", "attributedTo": actor.uri, "inReplyTo": dm["object"]["id"],
            "content": f'<p><span class="h-card"><a href="{city}" class="u-url mention">@<span>stadt</span></a>'
                       f"</span> {text}</p>",
            "to": [city], "cc": [], "tag": [{"type": "Mention", "href": city, "name": "@stadt@stadt.test"}],
            "published": "2026-01-02T10:00:00Z"}
    return {"@context": AS_CONTEXT, "id": f"{note_id}/activity", "type": "Create", "actor": actor.uri,
            "to": note["to"], "cc": [], "object": note}


async def send(stadt, mastodon: FakeInstance, actor: FakeActor, activity: dict) -> tuple[int, Any]:
    return await mastodon.sign_and_post(stadt, activity, actor, path=STADT_INBOX)


async def receipts(stadt) -> list[ConsentReceipt]:
    async with stadt.app[SESSIONS]() as session:
        return list((await session.scalars(select(ConsentReceipt).order_by(ConsentReceipt.id))).all())


async def public_page(stadt, post_id: int) -> str:
    response = await stadt.get(f"/@stadt/{post_id}", headers={"Accept": "text/html"})
    assert response.status == 200
    assert "Set-Cookie" not in response.headers
    return await response.text()
