"""Answering a reply as the account: a post through the post service, federated as a Note with
`inReplyTo` the citizen's note, a Mention of them and them in `cc`, delivered to their server even though
they do not follow the account."""

from __future__ import annotations

from sqlalchemy import select

from activitypub.uris import PUBLIC
from bridge.appkeys import SESSIONS
from bridge.store.models import Post
from support.inbox import CITY, audit, instances, mastodon, network, run_jobs, stadt  # noqa: F401
from support.moderation import moderator, replied
from support.web import visitors  # noqa: F401


async def test_answer_as_the_account_federates_a_reply_note_with_in_reply_to_and_the_mention(
        stadt, mastodon, visitors):
    _, alice, create, reply_id = await replied(stadt, mastodon)
    mona = await moderator(visitors, stadt)
    form = await mona.get(f"/editor/replies/{reply_id}/answer")
    assert form.status == 200 and "@alice@mastodon.test " in form.text and form.has("Danke für die Info!")
    page = await mona.post(f"/editor/replies/{reply_id}/answer",
                           {"text": "@alice@mastodon.test Gern geschehen! Der Markt ist bis 18 Uhr offen."})
    assert page.status == 303 and page.location.startswith("/editor/posts/")
    async with stadt.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).order_by(Post.created_at.desc()).limit(1))
    assert (post.state, post.in_reply_to, post.in_reply_to_actor) == ("published", create["object"]["id"], alice.uri)
    await run_jobs(stadt)
    [delivered] = [r for r in mastodon.received if r.json.get("type") == "Create"]
    assert delivered.verified and delivered.path == "/inbox"  # the shared inbox of alice's server
    note = delivered.json["object"]
    assert note["inReplyTo"] == create["object"]["id"] and note["attributedTo"] == CITY
    assert note["to"] == [PUBLIC] and alice.uri in note["cc"]
    assert [t for t in note["tag"] if t["type"] == "Mention"] == [
        {"type": "Mention", "href": alice.uri, "name": "@alice@mastodon.test"}]
    assert "Gern geschehen" in note["content"]
    [answered] = await audit(stadt, "reply.answered")
    assert int(answered.details["post"]) == post.id and answered.details["reply"] == reply_id


async def test_an_answer_without_the_handle_still_mentions_the_author_and_empty_answers_are_refused(
        stadt, mastodon, visitors):
    _, alice, _, reply_id = await replied(stadt, mastodon)
    mona = await moderator(visitors, stadt)
    empty = await mona.post(f"/editor/replies/{reply_id}/answer", {"text": "  "})
    assert empty.status == 422 and empty.has("write some text or attach an image")
    page = await mona.post(f"/editor/replies/{reply_id}/answer", {"text": "Danke!"})
    assert page.status == 303
    await run_jobs(stadt)
    [delivered] = [r for r in mastodon.received if r.json.get("type") == "Create"]
    assert delivered.json["object"]["tag"][0]["href"] == alice.uri and alice.uri in delivered.json["cc"]


async def test_when_the_person_deletes_their_account_our_answer_no_longer_points_at_them(
        stadt, mastodon, visitors):
    _, alice, create, reply_id = await replied(stadt, mastodon)
    mona = await moderator(visitors, stadt)
    assert (await mona.post(f"/editor/replies/{reply_id}/answer", {"text": "Gern geschehen!"})).status == 303
    delete = {"@context": "https://www.w3.org/ns/activitystreams", "id": alice.uri + "#delete", "type": "Delete",
              "actor": alice.uri, "object": alice.uri, "to": [PUBLIC]}
    assert (await mastodon.sign_and_post(stadt, delete, alice))[0] == 202
    async with stadt.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).order_by(Post.created_at.desc()).limit(1))
    assert post.text == "Gern geschehen!" and post.state == "published"  # the authority's own words stay
    assert (post.in_reply_to, post.in_reply_to_actor, post.in_reply_to_handle) == (None, None, None)
    [erased] = await audit(stadt, "subject.erased")
    assert erased.details["answers_unlinked"] == 1
