"""Fixtures and helpers for the inbox tests: our app reachable as `stadt.test`, fake remote instances,
published posts, audit rows, and running the job queue until idle."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from activitypub.uris import Uris
from bridge.app import create_app
from bridge.appkeys import FEDERATION, SESSIONS
from bridge.app import WORKER
from bridge.store.db import utcnow
from bridge.store.models import Actor, Post, PostState
from consent.models import AuditEntry
from fakes.fediverse import FakeInstance, Network

STADT = "http://stadt.test"
URIS = Uris.for_base(STADT)
CITY = URIS.actor("stadt")


@pytest.fixture
def network() -> Network:
    return Network()


@pytest.fixture
async def stadt(aiohttp_client, config, booted, network):
    """Our application, reachable by the fakes as http://stadt.test through the test network."""
    client = await aiohttp_client(create_app(config, run_worker=False, resolver=network,
                                             public_overrides=("127.0.0.0/8",)))
    network.add("stadt.test", client.server.port)
    return client


@pytest.fixture
async def instances(network):
    started: list[FakeInstance] = []

    async def start(host: str, software: str = "mastodon") -> FakeInstance:
        instance = await FakeInstance(host, network, software).start()
        started.append(instance)
        return instance

    yield start
    for instance in started:
        await instance.close()


@pytest.fixture
async def mastodon(instances) -> FakeInstance:
    return await instances("mastodon.test")


async def publish(client, actor_name: str = "stadt", text: str = "Der Wochenmarkt ist heute geöffnet.") -> int:
    """A published post, written directly (no fan-out jobs to get in the way)."""
    async with client.app[SESSIONS].begin() as session:
        actor_id = await session.scalar(select(Actor.id).where(Actor.name == actor_name))
        post = Post(actor_id=actor_id, state=PostState.PUBLISHED, text=text, language="de", mirrors=[],
                    published_at=utcnow())
        session.add(post)
        await session.flush()
        return post.id


def note_uri(post_id: int, actor_name: str = "stadt") -> str:
    return URIS.note(actor_name, str(post_id))


async def audit(client, action: str | None = None) -> list[AuditEntry]:
    async with client.app[SESSIONS]() as session:
        query = select(AuditEntry).order_by(AuditEntry.seq)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list((await session.scalars(query)).all())


async def run_jobs(client) -> int:
    return await client.app[WORKER].run_until_idle()


def vault(client):
    return client.app[FEDERATION].vault
