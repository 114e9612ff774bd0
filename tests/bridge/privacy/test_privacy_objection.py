"""A person who objected (Art. 21) is not processed any further: the inbox keeps none of their new
replies, likes or follows; everyone else is unaffected."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bridge.appkeys import FEDERATION, SESSIONS
from bridge.privacy.rights import object_person
from consent.models import Follower, Reply
from consent.rights import is_objected
from fakes.fediverse import mastodon_follow, mastodon_reply
from support.inbox import CITY, instances, mastodon, network, note_uri, publish, stadt  # noqa: F401


async def count(client, model) -> int:
    async with client.app[SESSIONS]() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_after_an_objection_new_replies_and_follows_are_dropped(stadt, mastodon):
    olga, paul = mastodon.add_actor("olga"), mastodon.add_actor("paul")
    post_id = await publish(stadt)
    async with stadt.app[SESSIONS].begin() as session:
        with pytest.raises(ValueError, match="actor URI"):  # never met: her handle cannot be matched later
            await object_person(session, stadt.app[FEDERATION].vault, "@olga@mastodon.test", ("dpo", "user:1"))
    async with stadt.app[SESSIONS].begin() as session:
        await object_person(session, stadt.app[FEDERATION].vault, olga.uri, ("dpo", "user:1"))
        assert await is_objected(session, stadt.app[FEDERATION].vault, olga.uri)
    status, body = await mastodon.sign_and_post(stadt, mastodon_reply(olga, note_uri(post_id), CITY), olga)
    assert (status, body) == (202, {"status": "subject_objected"})
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(olga, CITY), olga, path="/users/stadt/inbox")
    assert body == {"status": "subject_objected"}
    assert await count(stadt, Reply) == 0 and await count(stadt, Follower) == 0
    status, body = await mastodon.sign_and_post(stadt, mastodon_reply(paul, note_uri(post_id), CITY), paul)
    assert body == {"status": "reply_stored"} and await count(stadt, Reply) == 1
