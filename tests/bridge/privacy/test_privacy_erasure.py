"""Erasure of a follower who replied, through the inbox's real path: afterwards nothing readable of them
is left in the database — the SQLite file and its WAL scanned byte by byte, or every PostgreSQL table as
text — the queued answer to them is cancelled, the finished jobs that named them are reduced, and the log
(with the erasure entry) still verifies."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import event, inspect, select, text

from bridge.appkeys import ENGINE, FEDERATION, SESSIONS
from bridge.store.models import Job, JobState
from bridge.privacy.rights import erase_person, signer_for
from consent.auditexport import export_chunks
from consent.auditsigning import write_checkpoint
from consent.verifier import verify_export, verify_proof_document
from fakes.fediverse import mastodon_follow, mastodon_reply
from support.inbox import CITY, instances, mastodon, network, note_uri, publish, run_jobs, stadt  # noqa: F401
from support.moderation import ask_and_deliver, moderator, replied
from support.web import visitors  # noqa: F401

SECRET_REPLY = "Meine Telefonnummer ist 0171 5550199, bitte rufen Sie an"


async def database_text(client) -> bytes:
    """Every byte the database holds: the SQLite file plus WAL, or PostgreSQL's tables dumped as text."""
    url = str(client.app[SESSIONS].kw["bind"].url)
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    async with client.app[SESSIONS]() as session:
        names = await session.run_sync(lambda s: inspect(s.bind).get_table_names())
        dump = []
        for name in names:
            rows = (await session.execute(text(f'SELECT * FROM "{name}"'))).all()
            dump.append(repr(rows))
    return "\n".join(dump).encode()


async def test_erasure_leaves_nothing_readable_and_the_log_still_verifies(stadt, mastodon, config):
    alice = mastodon.add_actor("wunderlich7")
    post_id = await publish(stadt)
    await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice, path="/users/stadt/inbox")
    reply = mastodon_reply(alice, note_uri(post_id), CITY, content=f"<p>{SECRET_REPLY}</p>")
    status, _ = await mastodon.sign_and_post(stadt, reply, alice)
    assert status == 202
    personal = [alice.uri.encode(), b"Wunderlich7", SECRET_REPLY.encode(), b"wunderlich7@mastodon.test",
                alice.inbox.encode(), b"0171 5550199"]
    async with stadt.app[SESSIONS]() as session:
        queued = (await session.scalars(select(Job).where(Job.state == JobState.QUEUED))).all()
    assert any((j.payload or {}).get("subject_id") for j in queued), "the Accept to alice is still queued"

    assert alice.inbox.encode() in await database_text(stadt), "the queued Accept names the inbox in clear"
    signer = signer_for(config)
    result = await erase_person(stadt.app[SESSIONS], stadt.app[FEDERATION].vault, signer, alice.uri, ("dpo", "user:9"))
    assert result.ok
    assert verify_proof_document(json.loads(json.dumps(result.document)), signer.verifier_key, signer.origin).ok
    entry = result.document["entry"]
    assert entry["action"] == "subject.erased" and entry["details"]["jobs_cancelled"] == 1
    assert entry["details"]["followers"] == 1 and entry["details"]["replies"] == 1

    async with stadt.app[SESSIONS].begin() as session:
        await write_checkpoint(session, signer)
        await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)") if "sqlite" in str(session.bind.url)
                              else text("CHECKPOINT"))
    dump = await database_text(stadt)
    for needle in personal:
        assert needle not in dump, needle
    async with stadt.app[SESSIONS]() as session:
        exported = json.loads("".join([c async for c in export_chunks(session, signer.origin)]))
        jobs = (await session.scalars(select(Job).where(Job.state == JobState.QUEUED))).all()
    assert not any((j.payload or {}).get("subject_id") for j in jobs)
    assert verify_export(exported, signer.verifier_key, signer.origin).ok


async def test_erasure_reduces_the_finished_jobs_that_named_the_person_too(stadt, instances, visitors, config):
    """A person on GoToSocial (no shared inbox: every delivery names their own inbox) follows, replies, is
    asked for consent and answered; the worker has sent all of it, so the Accept, the consent message and
    the deliveries of the answer sit as finished jobs (kept for days). After erasure none names them."""
    gts = await instances("gts.test", "gotosocial")
    alice = gts.add_actor("wunderlich7")
    assert (await gts.sign_and_post(stadt, mastodon_follow(alice, CITY), alice, path="/users/stadt/inbox"))[0] == 202
    _, _, _, reply_id = await replied(stadt, gts, "wunderlich7", content=f"<p>{SECRET_REPLY}</p>")
    mona = await moderator(visitors, stadt)
    await ask_and_deliver(stadt, mona, gts, reply_id, alice)  # the worker sends the Accept and the question
    assert (await mona.post(f"/editor/replies/{reply_id}/answer", {"text": "Gern geschehen!"})).status == 303
    await run_jobs(stadt)
    async with stadt.app[SESSIONS]() as session:
        jobs = (await session.scalars(select(Job))).all()
    assert not [j for j in jobs if j.state in (JobState.QUEUED, JobState.RUNNING)], "everything was sent"
    finished = {j.id: j.kind for j in jobs if alice.inbox in json.dumps(j.payload)}
    assert sorted(finished.values()) == ["deliver", "deliver_direct", "deliver_direct"], finished
    assert alice.inbox.encode() in await database_text(stadt)

    signer = signer_for(config)
    result = await erase_person(stadt.app[SESSIONS], stadt.app[FEDERATION].vault, signer, alice.uri, ("dpo", "user:9"))
    assert result.ok
    async with stadt.app[SESSIONS].begin() as session:
        await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)") if "sqlite" in str(session.bind.url)
                              else text("CHECKPOINT"))
    dump = await database_text(stadt)
    for needle in (alice.uri.encode(), alice.inbox.encode(), b"wunderlich7", SECRET_REPLY.encode()):
        assert needle not in dump, needle
    details = result.document["entry"]["details"]
    assert (details["jobs_cancelled"], details["jobs_reduced"]) == (0, 3)
    async with stadt.app[SESSIONS]() as session:
        kept = {j.id: (j.kind, j.state, j.payload, j.ordering_key) for j in
                (await session.scalars(select(Job).where(Job.id.in_(finished)))).all()}
    assert sorted(kind for kind, *_ in kept.values()) == sorted(finished.values()), "the rows stay, reduced"
    assert all(state == JobState.DONE and ordering_key is None and "inbox" not in payload and "document" not in payload
               for _, state, payload, ordering_key in kept.values()), kept


async def test_a_person_who_deletes_their_account_leaves_nothing_readable_in_the_file_either(stadt, mastodon):
    """The inbox's path (their server's Delete) zeroes what it deletes, as the DPO's path does, also where
    SQLite was built without secure deletion by default (Debian's is built with it; others are not)."""
    engine = stadt.app[ENGINE]
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", lambda conn, _: conn.execute("PRAGMA secure_delete = OFF"))
        await engine.dispose()  # every connection from now on starts without it
    alice = mastodon.add_actor("wunderlich7")
    post_id = await publish(stadt)
    await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice, path="/users/stadt/inbox")
    reply = mastodon_reply(alice, note_uri(post_id), CITY, content=f"<p>{SECRET_REPLY}</p>")
    assert (await mastodon.sign_and_post(stadt, reply, alice))[0] == 202
    async with stadt.app[SESSIONS].begin() as session:  # the reply is on disk, not only in the WAL
        await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)") if "sqlite" in str(session.bind.url)
                              else text("CHECKPOINT"))
    assert alice.inbox.encode() in await database_text(stadt), "the queued Accept names the inbox in clear"
    delete = {"id": alice.uri + "#delete", "type": "Delete", "actor": alice.uri, "object": alice.uri,
              "to": ["https://www.w3.org/ns/activitystreams#Public"]}
    assert await mastodon.sign_and_post(stadt, delete, alice) == (202, {"status": "subject_erased"})
    async with stadt.app[SESSIONS].begin() as session:
        await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)") if "sqlite" in str(session.bind.url)
                              else text("CHECKPOINT"))
    dump = await database_text(stadt)
    for needle in (alice.uri.encode(), alice.inbox.encode(), SECRET_REPLY.encode(), b"0171 5550199"):
        assert needle not in dump, needle
