"""Sources that are down, slow, answer garbage, invalid JSON or XML, endless redirects, CAP without info, an
unknown severity, references never seen, or XML with entities: a reason code on the source's state (shown on
the admin page), a longer wait before the next poll, and never a crash, a half post or a duplicate."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bridge.store.db import utcnow
from bridge.store.models import Job, Post
from bridge.store.warnings import WarningSourceState
from bridge.warnings import polls
from bridge.warnings.reasons import WarningReason


async def poll(config, sessions, source_id: str):
    async with sessions() as session:
        result = await polls.poll_job(config, session, {"source": source_id})
        await session.commit()  # as the worker does after the handler: the next poll's job
        return result


async def state_of(sessions, source_id: str) -> WarningSourceState:
    async with sessions() as session:
        return await session.get(WarningSourceState, source_id)


async def post_count(sessions) -> int:
    async with sessions() as session:
        return len((await session.scalars(select(Post))).all())


@pytest.mark.parametrize(("fake", "source_id", "mode", "reason"), [
    ("nina", "nina", "down", WarningReason.HTTP_ERROR),
    ("nina", "nina", "slow", WarningReason.TIMEOUT),
    ("nina", "nina", "garbage", WarningReason.INVALID_JSON),
    ("nina", "nina", "invalid", WarningReason.INVALID_JSON),
    ("nina", "nina", "redirect", WarningReason.TOO_MANY_REDIRECTS),
    ("dwd", "dwd", "garbage", WarningReason.UNEXPECTED_SHAPE),
    ("cap", "kreis", "garbage", WarningReason.INVALID_XML),
    ("cap", "kreis", "invalid", WarningReason.INVALID_XML),
    ("pegel", "pegel", "invalid", WarningReason.INVALID_JSON),
])
async def test_a_broken_source_is_recorded_backed_off_and_recovers(config, sessions_only, sources, fake, source_id,
                                                                  mode, reason):
    sources.show("nina", "nina_storm_1.json")
    sources.show("dwd", "dwd_wind_1.xml")
    sources.show("cap", "cap_flood_1.xml")
    sources.show("pegel", "pegelonline_level_2.json")
    sources.fail(fake, mode)
    before = utcnow()
    first = await poll(config, sessions_only, source_id)
    second = await poll(config, sessions_only, source_id)
    assert first.reason is reason and second.reason is reason
    state = await state_of(sessions_only, source_id)
    assert state.last_reason == str(reason) and state.consecutive_failures == 2
    interval = next(s.interval for s in config.warnings if s.id == source_id)
    assert (state.next_poll_at - before).total_seconds() >= 4 * interval  # doubled twice
    assert await post_count(sessions_only) == 0
    async with sessions_only() as session:  # the chain goes on, never doubled
        [job] = (await session.scalars(select(Job).where(Job.kind == polls.POLL_JOB))).all()
    assert job.payload == {"source": source_id} and job.state == "queued"
    sources.fail(fake, None)
    recovered = await poll(config, sessions_only, source_id)
    assert recovered.reason is WarningReason.POLLED and await post_count(sessions_only) == 1
    assert (await state_of(sessions_only, source_id)).consecutive_failures == 0


@pytest.mark.parametrize(("name", "reason"), [
    ("cap_noinfo_1.xml", "no_info"),
    ("cap_badseverity_1.xml", "unknown_severity"),
    ("cap_unknownref_1.xml", "unknown_references"),
])
async def test_a_bad_message_is_recorded_once_and_posts_nothing(config, sessions_only, sources, name, reason):
    sources.show("cap", name)
    first = await poll(config, sessions_only, "kreis")
    assert first.reason is WarningReason.POLLED and first.actions == {reason: 1}
    assert (await state_of(sessions_only, "kreis")).last_description == f"{reason} 1"  # for the admin page
    again = await poll(config, sessions_only, "kreis")
    assert again.actions == {"seen": 1} and await post_count(sessions_only) == 0


async def test_xml_with_entities_is_refused_unread(config, sessions_only, sources):
    sources.show("cap", "cap_entity_1.xml")
    result = await poll(config, sessions_only, "kreis")
    assert result.reason is WarningReason.POLLED and "invalid_xml" in result.description
    assert await post_count(sessions_only) == 0


async def test_a_detail_missing_for_now_is_left_for_a_later_poll(config, sessions_only, sources):
    """Some dashboard ids answer 404 for a while: no half post from the short form; read when it comes."""
    sources.show("nina", "nina_storm_1.json")
    sources.fail("nina", "no_detail")
    first = await poll(config, sessions_only, "nina")
    assert first.actions == {} and "HTTP 404" not in first.description and "http_error" in first.description
    assert await post_count(sessions_only) == 0
    sources.fail("nina", None)
    assert (await poll(config, sessions_only, "nina")).actions == {"posted": 1}
