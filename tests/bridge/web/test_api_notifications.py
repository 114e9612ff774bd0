"""Notifications (issue 20): replies to the token's account's posts as Mastodon `mention` notifications, as the
moderation view shows them — with their moderation and consent state, never spam, deleted or erased ones,
and never another account's."""

from __future__ import annotations

from datetime import timedelta

from activitypub.uris import PUBLIC
from bridge.appkeys import FEDERATION, SESSIONS
from bridge.store.db import utcnow
from consent.models import Reply
from consent.platform_replies import store_platform_reply
from support.api import bearer, make_token
from support.inbox import instances, mastodon, network, note_uri, stadt  # noqa: F401
from support.moderation import moderator, replied
from support.web import visitors  # noqa: F401


async def notifications(stadt, token: str, query: str = "", version: str = "v1"):
    response = await stadt.get(f"/api/{version}/notifications{query}", headers=bearer(token))
    assert response.status == 200, await response.text()
    return response, await response.json()


async def set_state(stadt, reply_id: int, state: str) -> None:
    async with stadt.app[SESSIONS].begin() as session:
        (await session.get(Reply, reply_id)).state = state


async def test_a_reply_is_a_mention_with_its_moderation_and_consent_state(stadt, mastodon):
    post_id, alice, _, reply_id = await replied(stadt, mastodon, content="<p>Danke!<script>x()</script></p>")
    token = await make_token(stadt.app[SESSIONS])
    response, body = await notifications(stadt, token)
    [note] = body
    assert note["id"] == str(reply_id) and note["type"] == "mention"
    status = note["status"]
    assert "Danke!" in status["content"] and "<script>" not in status["content"]
    assert status["in_reply_to_id"] == str(post_id) and status["visibility"] == "public"
    assert status["stadtbote"] == {"moderation": "pending", "consent": "not_asked"}
    assert note["account"]["acct"] == "alice@mastodon.test" and note["account"] is not None
    assert int(note["account"]["id"]) > 2**31, "no id of this server's own accounts"
    assert int(status["id"]) > 10**15, "no id of this server's own posts"
    assert 'rel="next"' in response.headers["Link"] and f"max_id={reply_id}" in response.headers["Link"]
    count = await stadt.get("/api/v1/notifications/unread_count", headers=bearer(token))
    assert await count.json() == {"count": 1}, "pending replies are the unread ones"
    shown = await stadt.get(f"/api/v1/notifications/{reply_id}", headers=bearer(token))
    assert shown.status == 200 and (await shown.json())["id"] == str(reply_id)
    # Dismissing answers as Mastodon, but only moderation decides on a reply.
    dismissed = await stadt.post(f"/api/v1/notifications/{reply_id}/dismiss", headers=bearer(token))
    assert dismissed.status == 200 and await dismissed.json() == {}
    assert len((await notifications(stadt, token))[1]) == 1


async def test_spam_deleted_and_other_accounts_replies_are_not_shown(stadt, mastodon):
    _, _, _, first = await replied(stadt, mastodon, content="<p>Eins</p>")
    _, _, _, second = await replied(stadt, mastodon, content="<p>Zwei</p>", number=2)
    _, _, _, third = await replied(stadt, mastodon, content="<p>Drei</p>", number=3)
    await set_state(stadt, first, "spam")
    await set_state(stadt, second, "deleted")
    await set_state(stadt, third, "hidden")
    token = await make_token(stadt.app[SESSIONS])
    _, body = await notifications(stadt, token)
    assert [n["id"] for n in body] == [str(third)]
    assert body[0]["status"]["stadtbote"]["moderation"] == "hidden"
    for hidden in (first, second):
        assert (await stadt.get(f"/api/v1/notifications/{hidden}", headers=bearer(token))).status == 404
    other = await make_token(stadt.app[SESSIONS], user="wehr", actors=("feuerwehr",), actor="feuerwehr")
    assert (await notifications(stadt, other))[1] == []
    assert (await stadt.get(f"/api/v1/notifications/{third}", headers=bearer(other))).status == 404
    assert (await stadt.get("/api/v1/notifications")).status == 401


async def test_an_erased_author_disappears_from_the_notifications(stadt, mastodon):
    _, alice, _, _ = await replied(stadt, mastodon)
    token = await make_token(stadt.app[SESSIONS])
    assert len((await notifications(stadt, token))[1]) == 1
    delete = {"@context": "https://www.w3.org/ns/activitystreams", "id": alice.uri + "#delete", "type": "Delete",
              "actor": alice.uri, "object": alice.uri, "to": [PUBLIC]}
    assert (await mastodon.sign_and_post(stadt, delete, alice))[0] == 202
    assert (await notifications(stadt, token))[1] == []


async def test_consent_given_shows_in_the_state(stadt, mastodon, visitors):
    _, _, _, reply_id = await replied(stadt, mastodon)
    mona = await moderator(visitors, stadt)
    assert (await mona.post(f"/editor/replies/{reply_id}/consent")).status == 303
    assert (await mona.post(f"/editor/replies/{reply_id}/state", {"to": "approve"})).status == 303
    token = await make_token(stadt.app[SESSIONS])
    [note] = (await notifications(stadt, token))[1]
    assert note["status"]["stadtbote"] == {"moderation": "approved", "consent": "asked"}


async def test_platform_replies_types_pages_and_the_grouped_shape(stadt, mastodon):
    post_id, _, _, fediverse = await replied(stadt, mastodon)
    async with stadt.app[SESSIONS].begin() as session:
        await store_platform_reply(session, stadt.app[FEDERATION].vault, platform_kind="bluesky",
                                   platform_id="bsky_stadt", author_id="did:plc:carol", reply_id="at://carol/1",
                                   text="Antwort auf Bluesky", url="https://bsky.app/x", post_id=post_id,
                                   actor_name="stadt", retention=timedelta(days=180), now=utcnow())
    token = await make_token(stadt.app[SESSIONS])
    _, body = await notifications(stadt, token)
    assert len(body) == 2 and "Antwort auf Bluesky" in body[0]["status"]["content"]
    assert body[0]["account"]["display_name"] and body[1]["id"] == str(fediverse)
    assert body[0]["account"]["id"] != body[1]["account"]["id"]
    _, page = await notifications(stadt, token, "?limit=1")
    assert [n["id"] for n in page] == [body[0]["id"]]
    _, older = await notifications(stadt, token, f"?max_id={body[0]['id']}")
    assert [n["id"] for n in older] == [str(fediverse)]
    _, newer = await notifications(stadt, token, f"?min_id={fediverse}")
    assert [n["id"] for n in newer] == [body[0]["id"]]
    assert (await notifications(stadt, token, "?types[]=favourite"))[1] == []
    assert (await notifications(stadt, token, "?exclude_types[]=mention"))[1] == []
    assert len((await notifications(stadt, token, "?types[]=mention&types[]=follow"))[1]) == 2
    _, grouped = await notifications(stadt, token, version="v2")
    assert [g["most_recent_notification_id"] for g in grouped["notification_groups"]] == [n["id"] for n in body]
    assert {a["id"] for a in grouped["accounts"]} == {n["account"]["id"] for n in body}
    assert [s["id"] for s in grouped["statuses"]] == [g["status_id"] for g in grouped["notification_groups"]]
    bad = await stadt.get("/api/v1/notifications?max_id=abc", headers=bearer(token))
    assert bad.status == 400 and (await bad.json())["reason"] == "bad_cursor"


async def test_likes_and_boosts_are_counts_and_never_people(stadt, mastodon):
    post_id, alice, _, _ = await replied(stadt, mastodon)
    bob = mastodon.add_actor("bob")
    for number, (actor, kind) in enumerate(((alice, "Like"), (bob, "Like"), (bob, "Announce")), start=1):
        activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor.uri}#acts/{number}",
                    "type": kind, "actor": actor.uri, "object": note_uri(post_id), "to": [PUBLIC]}
        assert (await mastodon.sign_and_post(stadt, activity, actor))[0] == 202
    token = await make_token(stadt.app[SESSIONS])
    status = await (await stadt.get(f"/api/v1/statuses/{post_id}", headers=bearer(token))).json()
    assert (status["favourites_count"], status["reblogs_count"], status["replies_count"]) == (2, 1, 1)
    [home] = await (await stadt.get("/api/v1/timelines/home", headers=bearer(token))).json()
    assert (home["favourites_count"], home["reblogs_count"]) == (2, 1)
    for people in ("favourited_by", "reblogged_by"):
        response = await stadt.get(f"/api/v1/statuses/{post_id}/{people}", headers=bearer(token))
        assert response.status == 200 and await response.json() == []
    _, body = await notifications(stadt, token)
    assert [n["type"] for n in body] == ["mention"], "no favourite or reblog notifications: they would name people"
