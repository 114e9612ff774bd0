"""The batching writer falls back to the general path only when the database refuses a batch; a
programming error reaches every request of the batch instead of being taken for a database conflict."""

from __future__ import annotations

import dataclasses

import pytest

from activitypub.inbound import parse_activity
from bridge.appkeys import CONFIG, FEDERATION, SESSIONS
from bridge.inbound.reply_writer import ReplyWriter
from bridge.inbound.request import Parts
from bridge.store.db import create_engine, create_sessionmaker
from fakes.fediverse import mastodon_reply
from support.inbox import CITY, instances, mastodon, network, note_uri, publish, stadt  # noqa: F401


def parts_of(client) -> Parts:
    return Parts(client.app[CONFIG], client.app[FEDERATION], client.app[SESSIONS])


async def two_replies(client, instance) -> list:
    post_id = await publish(client)
    anna = instance.add_actor("anna")
    return [mastodon_reply(anna, note_uri(post_id), CITY, number=n) for n in (1, 2)]


async def test_a_batch_the_database_refuses_goes_back_to_the_general_path(stadt, mastodon, tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'no-tables.db'}")  # every query: no such table
    writer = ReplyWriter(dataclasses.replace(parts_of(stadt), sessions=create_sessionmaker(engine)))
    try:
        documents = await two_replies(stadt, mastodon)
        answers = [await writer.submit(parse_activity(d), d, "mastodon.test") for d in documents]
    finally:
        await writer.close()
        await engine.dispose()
    assert answers == [None, None], "the general path decides each one alone"


async def test_a_programming_error_in_a_batch_fails_its_requests_and_the_writer_goes_on(stadt, mastodon):
    broken = ReplyWriter(dataclasses.replace(parts_of(stadt), config=None))  # a bug: no configuration at hand
    try:
        documents = await two_replies(stadt, mastodon)
        with pytest.raises(AttributeError):
            await broken.submit(parse_activity(documents[0]), documents[0], "mastodon.test")
        with pytest.raises(AttributeError):  # the next batch is written (and fails) too: nothing hangs
            await broken.submit(parse_activity(documents[1]), documents[1], "mastodon.test")
    finally:
        await broken.close()
    assert broken.batches == 0
