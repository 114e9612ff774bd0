"""Mentioning someone on another server reaches them, as from Mastodon: WebFinger finds their actor id,
the Mention tag and `cc` carry it, and the post (and its edits) is delivered to them too."""

from __future__ import annotations

import pytest

from bridge.appkeys import FEDERATION, SESSIONS
from bridge.privacy.erasure import erase_person
from bridge.store.models import Post, Role
from consent.subjects import find_subject, known_actor
from support.inbox import CITY, instances, network, run_jobs, stadt  # noqa: F401
from test_delivery_flow import follow, write
from testkit import add_user


@pytest.fixture
async def editor(stadt, test_password_hash):
    async with stadt.app[SESSIONS].begin() as s:
        await add_user(s, "erika", Role.EDITOR, ["stadt"], test_password_hash)


async def post_row(stadt, post_id: int) -> Post:
    async with stadt.app[SESSIONS]() as session:
        return await session.get(Post, post_id)


async def test_a_mentioned_account_that_does_not_follow_us_receives_the_post(stadt, instances, editor):
    followers, mastodon = await instances("followers.test"), await instances("mastodon.test")
    await follow(stadt, followers, "bob")
    anna = mastodon.add_actor("anna")
    post_id = await write(stadt, "Danke @anna@mastodon.test für den Hinweis!")
    await run_jobs(stadt)
    [create] = [r for r in mastodon.received if r.json["type"] == "Create"]
    assert create.path == "/inbox" and create.verified  # her server's shared inbox, signed by the city
    note = create.json["object"]
    assert {"type": "Mention", "href": anna.uri, "name": "@anna@mastodon.test"} in note["tag"]
    assert anna.uri in note["cc"] and anna.uri in create.json["cc"]
    assert [r.json["object"]["tag"] for r in followers.received] == [note["tag"]]  # the same Note for all
    assert ("/.well-known/webfinger", False) in mastodon.fetched and ("/users/anna", True) in mastodon.fetched
    assert (await post_row(stadt, post_id)).mention_actors == {"anna@mastodon.test": anna.uri}
    async with stadt.app[SESSIONS]() as session:  # what we learnt of her is in the consent store
        assert (await known_actor(session, stadt.app[FEDERATION].vault, anna.uri)).inbox == anna.inbox


async def test_an_edit_reaches_the_mentioned_account_without_a_second_lookup(stadt, instances, editor):
    mastodon = await instances("mastodon.test")
    anna = mastodon.add_actor("anna")
    post_id = await write(stadt, "Hallo @anna@mastodon.test")
    await run_jobs(stadt)
    lookups = mastodon.fetched.count(("/.well-known/webfinger", False))
    await write(stadt, "Hallo @anna@mastodon.test, korrigiert", edit_of=post_id)
    await run_jobs(stadt)
    assert [r.json["type"] for r in mastodon.received] == ["Create", "Update"]
    assert anna.uri in mastodon.received[1].json["object"]["cc"]
    assert mastodon.fetched.count(("/.well-known/webfinger", False)) == lookups == 1
    await write(stadt, "", delete=post_id)
    await run_jobs(stadt)
    assert [r.json["type"] for r in mastodon.received] == ["Create", "Update", "Delete"]


async def test_a_handle_that_cannot_be_found_keeps_its_profile_link_and_the_post_still_goes_out(
        stadt, instances, editor):
    followers, mastodon = await instances("followers.test"), await instances("mastodon.test")
    await follow(stadt, followers, "bob")
    post_id = await write(stadt, "Grüße an @niemand@mastodon.test und @wer@gibts-nicht.test")
    await run_jobs(stadt)
    [create] = followers.received
    hrefs = {t["name"]: t["href"] for t in create.json["object"]["tag"] if t["type"] == "Mention"}
    assert hrefs == {"@niemand@mastodon.test": "https://mastodon.test/@niemand",
                     "@wer@gibts-nicht.test": "https://gibts-nicht.test/@wer"}
    assert mastodon.received == [] and ("/.well-known/webfinger", False) in mastodon.fetched
    assert (await post_row(stadt, post_id)).mention_actors in (None, {})
    mastodon.add_actor("niemand")  # the account exists now: the next edit finds and reaches it
    await write(stadt, "Grüße an @niemand@mastodon.test", edit_of=post_id)
    await run_jobs(stadt)
    assert [r.json["type"] for r in mastodon.received] == ["Update"]
    assert (await post_row(stadt, post_id)).mention_actors == {"niemand@mastodon.test": "http://mastodon.test/users/niemand"}


async def test_a_local_mention_needs_no_lookup(stadt, instances, editor):
    mastodon = await instances("mastodon.test")
    await follow(stadt, mastodon, "bob")
    await write(stadt, "Siehe @stadt@stadt.test")
    await run_jobs(stadt)
    [create] = mastodon.received
    assert {"type": "Mention", "href": CITY, "name": "@stadt@stadt.test"} in create.json["object"]["tag"]
    assert not any(path == "/.well-known/webfinger" for path, _ in mastodon.fetched)


async def test_an_erased_person_is_no_longer_linked_from_posts_nor_looked_up_again(stadt, instances, editor):
    """Art. 17: the actor id found for a mention is personal data outside the consent store; after the
    person's erasure our posts keep their words (the handle is in them) but not the id, and mentioning
    them again neither stores anything about them nor stops the post."""
    followers, mastodon = await instances("followers.test"), await instances("mastodon.test")
    await follow(stadt, followers, "bob")
    anna = mastodon.add_actor("anna")
    first = await write(stadt, "Danke @anna@mastodon.test!")
    await run_jobs(stadt)
    async with stadt.app[SESSIONS].begin() as session:
        vault = stadt.app[FEDERATION].vault
        counts = await erase_person(session, vault, await find_subject(session, vault, anna.uri))
    assert counts["mentions_unlinked"] == 1
    assert (await post_row(stadt, first)).mention_actors == {}
    mastodon.received.clear()
    second = await write(stadt, "Noch einmal danke, @anna@mastodon.test!")
    await write(stadt, "Danke @anna@mastodon.test, korrigiert", edit_of=first)
    await run_jobs(stadt)
    assert mastodon.received == []  # she is not addressed any more
    assert sorted(r.json["type"] for r in followers.received if r.json["type"] != "Accept") == [
        "Create", "Create", "Update"]  # and the posts still went out
    assert (await post_row(stadt, second)).mention_actors == {}
    async with stadt.app[SESSIONS]() as session:
        assert await known_actor(session, vault, anna.uri) is None
    note = next(r.json["object"] for r in followers.received if r.json["type"] == "Update")
    assert {"type": "Mention", "href": "https://mastodon.test/@anna", "name": "@anna@mastodon.test"} in note["tag"]
