"""The send states' declared transitions: every change of a send row is checked against the table, an
undeclared one raises; and a send whose job gives up does not stay "queued" with nothing left to run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bridge.platforms import sends as mirroring
from bridge.platforms.states import TRANSITIONS, IllegalTransition, move
from bridge.store.db import utcnow
from bridge.store.models import Job, JobState
from bridge.store.platforms import AccountStatus, PlatformAccount, PlatformSend, SendState
from support.mirroring import PLATFORMS, bridge, start_bridge  # noqa: F401  (fixture)


def row_in(state: SendState) -> PlatformSend:
    return PlatformSend(post_id=1, platform_id="masto", state=state, handle="h")


@pytest.mark.parametrize("before", list(SendState))
def test_every_declared_change_is_made_and_every_other_raises(before):
    for after in SendState:
        row = row_in(before)
        if after is before or after in TRANSITIONS[before]:
            move(row, after, utcnow())
            assert row.state == after
        else:
            with pytest.raises(IllegalTransition):
                move(row, after, utcnow())
            assert row.state == before  # nothing changed


def test_the_table_covers_every_state_and_a_sent_post_never_goes_back_to_the_queue():
    assert set(TRANSITIONS) == set(SendState)
    assert SendState.QUEUED not in TRANSITIONS[SendState.SENT]
    assert TRANSITIONS[SendState.DELETED] == frozenset()


async def test_a_stale_publish_job_leaves_a_send_the_editor_marked_sent_alone(bridge):
    """The editor marked an unknown send as sent while its publish job still waited; the account then
    needed reconnecting. The job must not turn "sent" into "failed" (an undeclared change)."""
    bridge.mastodon.mode = "timeout_after_write"
    post_id = await bridge.post("Sirenentest", mirrors=("masto",))
    await bridge.run()
    assert (await bridge.send(post_id, "masto")).state == SendState.UNKNOWN  # its job reconciles later
    async with bridge.sessions.begin() as s:
        assert await mirroring.decide(s, post_id, "masto", mirroring.Decision.MARK_SENT, "editor", "user:1")
        (await s.get(PlatformAccount, "masto")).status = AccountStatus.RECONNECT_NEEDED
    await bridge.make_due(mirroring.SEND_JOB)
    await bridge.run()
    assert (await bridge.send(post_id, "masto")).state == SendState.SENT


async def test_a_send_whose_job_gives_up_is_failed_not_queued(make_config, sessions_only, aiohttp_server,
                                                              test_password_hash):
    unreachable = [{**p, "api_base": "http://127.0.0.1:9"} if p["id"] == "masto" else p for p in PLATFORMS]
    bridge, closing = await start_bridge(make_config, sessions_only, aiohttp_server, test_password_hash,
                                         platforms=unreachable)
    try:
        post_id = await bridge.post("Hochwasserwarnung", mirrors=("masto",))
        await bridge.run()
        row = await bridge.send(post_id, "masto")
        assert row.state == SendState.QUEUED and row.reason == "connection_failed"  # tried again later
        async with bridge.sessions.begin() as s:
            await s.execute(update(Job).where(Job.kind == mirroring.SEND_JOB).values(
                attempts=Job.max_attempts - 1, run_at=utcnow()))
        await bridge.run()
        async with bridge.sessions() as s:
            job = await s.scalar(select(Job).where(Job.kind == mirroring.SEND_JOB))
        row = await bridge.send(post_id, "masto")
        assert job.state == JobState.FAILED
        assert row.state == SendState.FAILED and row.reason == "connection_failed"  # not "queued" for ever
    finally:
        for federation in closing:
            await federation.close()


def test_no_module_but_the_table_sets_a_send_state():
    """Every change goes through `move`: no module that handles sends assigns a state itself."""
    bridge = Path(__file__).resolve().parents[3] / "bridge"
    assigns = re.compile(r"\.state\s*=[^=]|\.state,[\w., ]*=[^=]")
    offenders = [f"{path.relative_to(bridge)}:{number}" for path in bridge.rglob("*.py")
                 if path.name != "states.py" and re.search(r"SendState|PlatformSend", text := path.read_text())
                 for number, line in enumerate(text.splitlines(), 1) if assigns.search(line)]
    assert offenders == []
