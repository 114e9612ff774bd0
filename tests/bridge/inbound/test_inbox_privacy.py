"""No inbound body text reaches the logs or the audit table — neither from accepted nor refused requests."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from bridge.appkeys import SESSIONS
from consent.models import AuditEntry, Reply
from fakes.fediverse import AS_CONTEXT, fixed_key, mastodon_follow, mastodon_reply
from support.inbox import CITY, instances, mastodon, network, note_uri, publish, run_jobs, stadt  # noqa: F401

MARKER = "Geheimnis-4711-Hausnummer"


async def test_no_inbound_text_in_logs_or_audit(stadt, mastodon, caplog):
    # Everything of ours down to DEBUG; libraries at INFO (aiosqlite's DEBUG echoes SQL parameters, which
    # hold sealed blobs and queued answers, not log lines of ours).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="stadtbote")
    alice = mastodon.add_actor("alice", key_index=0)
    post_id = await publish(stadt)
    await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice)
    reply = mastodon_reply(alice, note_uri(post_id), CITY, content=f"<p>{MARKER}</p>")
    reply["object"]["summary"] = MARKER
    assert (await mastodon.sign_and_post(stadt, reply, alice))[0] == 202
    refused = mastodon_reply(alice, note_uri(post_id), CITY, number=2, content=f"<p>{MARKER}</p>")
    assert (await mastodon.sign_and_post(stadt, refused, alice, key=fixed_key(1)))[0] == 401
    odd = {"@context": AS_CONTEXT, "id": alice.uri + "#odd", "type": MARKER, "actor": alice.uri}
    assert (await mastodon.sign_and_post(stadt, odd, alice))[0] == 202
    flag = {"@context": AS_CONTEXT, "id": alice.uri + "#flag", "type": "Flag", "actor": alice.uri,
            "content": MARKER, "object": [CITY]}
    assert (await mastodon.sign_and_post(stadt, flag, alice))[0] == 202
    await run_jobs(stadt)

    # Access lines of the test servers (paths of the fakes) are test scaffolding, not our logging.
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                        if r.name != "aiohttp.access")
    assert "stadtbote.inbox" in logged
    assert MARKER not in logged
    assert alice.uri not in logged and "alice" not in logged
    async with stadt.app[SESSIONS]() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
        stored = (await session.scalars(select(Reply))).all()
    dumped = json.dumps([[e.action, e.actor_ref, e.subject_ref, e.reason, e.purpose, e.details] for e in entries])
    assert MARKER not in dumped and "alice" not in dumped
    assert {"reply.stored", "inbound.rejected", "inbound.accepted", "report.received"} <= {e.action for e in entries}
    # The reply itself is stored — sealed, so not even the database holds it in clear.
    assert len(stored) == 1 and MARKER.encode() not in stored[0].enc_content
