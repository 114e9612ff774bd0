"""Four-eyes approval holds for edits too: on an approval account an edit of a published post waits for a
second editor, and until then nothing public changes — nor does anything go out to followers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bridge.appkeys import CONFIG, SESSIONS
from bridge.auth.users import find_user
from bridge.delivery.jobs import FANOUT_JOB
from bridge.publishing import edits, posts
from bridge.publishing.drafts import DraftField, PostReason
from bridge.publishing.posts import Description, Draft
from bridge.publishing.uploads import upload_image
from bridge.privacy.media_purge import purge_media
from bridge.runtime.media_storage import media_storage
from bridge.store.db import utcnow
from bridge.store.models import EditState, Job, Post, PostEdit, PostRevision, PostState, Role
from consent.models import AuditEntry
from fakes.fediverse import mastodon_follow
from support.inbox import URIS, instances, network, note_uri, run_jobs, stadt  # noqa: F401
from support.public import png
from testkit import add_user


@pytest.fixture
async def people(sessions_only, test_password_hash):
    async with sessions_only.begin() as s:
        await add_user(s, "anna", Role.EDITOR, ["stadt", "feuerwehr"], test_password_hash)
        await add_user(s, "ben", Role.EDITOR, ["feuerwehr"], test_password_hash)


async def published(sessions, config, text: str = "Übung am Samstag", media_ids=()) -> int:
    """A fire-brigade post written by Anna and approved by Ben."""
    async with sessions.begin() as s:
        result = await posts.create_post(s, config, await find_user(s, "anna"),
                                         Draft("feuerwehr", text, media_ids=tuple(media_ids)))
        post = result.post
        approved = await posts.approve_post(s, config, await find_user(s, "ben"), post, posts.content_sha256(post))
        assert approved.ok and post.state == PostState.PUBLISHED
        return post.id


async def edit(sessions, config, name: str, post_id: int, text: str, **draft):
    async with sessions.begin() as s:
        return await posts.edit_post(s, config, await find_user(s, name), await s.get(Post, post_id),
                                     Draft("feuerwehr", text, **draft))


async def update_jobs(sessions, post_id: int) -> list[Job]:
    async with sessions() as s:
        found = (await s.scalars(select(Job).where(Job.post_id == post_id, Job.kind == FANOUT_JOB))).all()
        return [j for j in found if j.payload.get("verb") == "update"]


async def proposal_sha(sessions, post_id: int) -> str:
    async with sessions() as s:
        return (await edits.load_proposal(s, await s.get(Post, post_id))).sha256


async def test_an_edit_of_a_published_approval_post_waits_and_changes_nothing_public(config, sessions_only,
                                                                                    people):
    post_id = await published(sessions_only, config)
    result = await edit(sessions_only, config, "anna", post_id, "Übung am Sonntag")
    assert result.ok and result.edit is not None
    async with sessions_only() as s:
        post = await s.get(Post, post_id)
        assert post.text == "Übung am Samstag" and post.edited_at is None and post.state == PostState.PUBLISHED
        assert (await s.scalars(select(PostRevision))).all() == []
        proposal = await edits.load_proposal(s, post)
        assert proposal.pending and proposal.edit.text == "Übung am Sonntag"
        actions = [e.action for e in (await s.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()]
    assert actions[-1] == "post.submitted"
    assert await update_jobs(sessions_only, post_id) == []  # no Update before approval


async def test_the_editor_cannot_approve_their_own_edit_and_another_editor_can(config, sessions_only, people):
    post_id = await published(sessions_only, config)
    await edit(sessions_only, config, "anna", post_id, "Übung am Sonntag")
    seen = await proposal_sha(sessions_only, post_id)
    async with sessions_only.begin() as s:
        post = await s.get(Post, post_id)
        assert (await posts.approve_post(s, config, await find_user(s, "anna"), post, seen)).reason \
            is PostReason.OWN_EDIT
        assert (await posts.approve_post(s, config, await find_user(s, "ben"), post, "0" * 64)).reason \
            is PostReason.TEXT_CHANGED
        approved = await posts.approve_post(s, config, await find_user(s, "ben"), post, seen)
        assert approved.ok
    async with sessions_only() as s:
        post = await s.get(Post, post_id)
        revisions = (await s.scalars(select(PostRevision).where(PostRevision.post_id == post_id))).all()
        edit_row = await s.scalar(select(PostEdit).where(PostEdit.post_id == post_id))
        assert post.text == "Übung am Sonntag" and post.edited_at is not None and post.approved_by.name == "ben"
        assert post.approved_text_sha256 == posts.content_sha256(post)
        assert edit_row.state == EditState.APPROVED and edit_row.decided_by_id == post.approved_by_id
        assert await edits.load_proposal(s, post) is None
    assert [r.text for r in revisions] == ["Übung am Samstag"]
    assert len(await update_jobs(sessions_only, post_id)) == 1  # the Update goes out now


async def test_a_returned_edit_keeps_the_published_text(config, sessions_only, people):
    post_id = await published(sessions_only, config)
    await edit(sessions_only, config, "anna", post_id, "Übung fällt aus")
    async with sessions_only.begin() as s:
        post = await s.get(Post, post_id)
        own = await posts.return_post(s, await find_user(s, "anna"), post, "x")
        assert own.reason is PostReason.OWN_EDIT
        assert (await posts.return_post(s, await find_user(s, "ben"), post, "Stimmt nicht")).ok
    async with sessions_only() as s:
        post = await s.get(Post, post_id)
        proposal = await edits.load_proposal(s, post)
        assert post.text == "Übung am Samstag" and post.state == PostState.PUBLISHED
        assert not proposal.pending and proposal.edit.review_comment == "Stimmt nicht"
    async with sessions_only.begin() as s:  # nothing waits any more: nothing to approve
        post = await s.get(Post, post_id)
        refused = await posts.approve_post(s, config, await find_user(s, "ben"), post, proposal.sha256)
        assert refused.reason is PostReason.WRONG_STATE
    assert await update_jobs(sessions_only, post_id) == []


async def test_a_newer_edit_supersedes_the_waiting_one(config, sessions_only, people):
    post_id = await published(sessions_only, config)
    await edit(sessions_only, config, "anna", post_id, "Erster Vorschlag")
    first_seen = await proposal_sha(sessions_only, post_id)
    await edit(sessions_only, config, "anna", post_id, "Zweiter Vorschlag")
    async with sessions_only.begin() as s:
        post = await s.get(Post, post_id)
        stale = await posts.approve_post(s, config, await find_user(s, "ben"), post, first_seen)
        assert stale.reason is PostReason.TEXT_CHANGED  # Ben saw the first; the second waits
        states = (await s.scalars(select(PostEdit.state).order_by(PostEdit.id))).all()
    assert states == [EditState.SUPERSEDED, EditState.PENDING]


async def test_image_descriptions_of_a_waiting_edit_change_only_on_approval(config, sessions_only, people):
    async with sessions_only.begin() as s:
        uploaded = await upload_image(s, config, await find_user(s, "anna"), "feuerwehr", png(), alt="Löschzug")
    post_id = await published(sessions_only, config, media_ids=(uploaded.media.id,))
    result = await edit(sessions_only, config, "anna", post_id, "Übung am Samstag",
                        media_ids=(uploaded.media.id,),
                        descriptions=(Description(uploaded.media.id, "Roter Löschzug vor der Wache"),))
    assert result.ok
    async with sessions_only() as s:
        post = await s.get(Post, post_id)
        assert [m.alt for m in post.media] == ["Löschzug"]
    seen = await proposal_sha(sessions_only, post_id)
    async with sessions_only.begin() as s:
        assert (await posts.approve_post(s, config, await find_user(s, "ben"), await s.get(Post, post_id), seen)).ok
    async with sessions_only() as s:
        assert [m.alt for m in (await s.get(Post, post_id)).media] == ["Roter Löschzug vor der Wache"]


async def test_accounts_without_approval_still_edit_at_once(config, sessions_only, people):
    async with sessions_only.begin() as s:
        post = (await posts.create_post(s, config, await find_user(s, "anna"), Draft("stadt", "Alt"))).post
        result = await posts.edit_post(s, config, await find_user(s, "anna"), post, Draft("stadt", "Neu"))
        assert result.ok and result.edit is None and post.text == "Neu"


async def test_every_reason_comes_at_once_each_with_its_field(config, sessions_only, people):
    draft = Draft("stadt", "x" * 501, spoiler_text="w" * 501, language="fr", mirrors=("bsky",),
                  scheduled_at=utcnow() - timedelta(minutes=1))
    async with sessions_only.begin() as s:
        result = await posts.create_post(s, config, await find_user(s, "anna"), draft)
    found = {(r.reason, r.field) for r in result.refusals}
    assert found == {(PostReason.TOO_LONG, DraftField.TEXT), (PostReason.CW_TOO_LONG, DraftField.SPOILER_TEXT),
                     (PostReason.INVALID_LANGUAGE, DraftField.LANGUAGE),
                     (PostReason.UNKNOWN_PLATFORM, DraftField.MIRRORS),
                     (PostReason.SCHEDULE_IN_PAST, DraftField.SCHEDULED_AT)}
    too_long = next(r for r in result.refusals if r.reason is PostReason.TOO_LONG)
    assert too_long.facts == {"count": 1002, "limit": 500} and too_long.description == "the text is longer than allowed"
    assert not result.ok and result.reason is PostReason.INVALID_LANGUAGE  # the first, as before


@pytest.mark.parametrize("ahead, reason", [
    (timedelta(days=729), PostReason.OK),
    (timedelta(days=731), PostReason.SCHEDULE_TOO_FAR),
    (None, PostReason.SCHEDULE_TOO_FAR),  # 9999-12-31T23:59:59
])
async def test_a_schedule_may_lie_at_most_two_years_ahead(config, sessions_only, people, ahead, reason):
    now = utcnow()
    at = now + ahead if ahead else now.replace(year=9999, month=12, day=31, hour=23, minute=59, second=59)
    async with sessions_only.begin() as s:
        result = await posts.create_post(s, config, await find_user(s, "anna"), Draft("stadt", "x", scheduled_at=at),
                                         now=now)
    assert result.reason is reason


# Federation: a follower's server hears of the edit only once it is approved.

async def test_a_follower_gets_no_update_before_approval_and_one_after(stadt, instances, test_password_hash):
    config, sessions = stadt.app[CONFIG], stadt.app[SESSIONS]
    async with sessions.begin() as s:
        await add_user(s, "anna", Role.EDITOR, ["feuerwehr"], test_password_hash)
        await add_user(s, "ben", Role.EDITOR, ["feuerwehr"], test_password_hash)
    mastodon = await instances("mastodon.test")
    alice = mastodon.add_actor("alice")
    feuerwehr = URIS.actor("feuerwehr")
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(alice, feuerwehr), alice))[0] == 202
    await run_jobs(stadt)
    mastodon.received.clear()
    post_id = await published(sessions, config, "Sirenenprobe am Mittwoch")
    await run_jobs(stadt)
    assert [r.json["type"] for r in mastodon.received] == ["Create"]
    await edit(sessions, config, "anna", post_id, "Sirenenprobe am Donnerstag")
    await run_jobs(stadt)
    assert [r.json["type"] for r in mastodon.received] == ["Create"]  # nothing before approval
    seen = await proposal_sha(sessions, post_id)
    async with sessions.begin() as s:
        assert (await posts.approve_post(s, config, await find_user(s, "ben"), await s.get(Post, post_id), seen)).ok
    await run_jobs(stadt)
    assert [r.json["type"] for r in mastodon.received] == ["Create", "Update"]
    update = mastodon.received[1].json
    assert update["object"]["id"] == note_uri(post_id, "feuerwehr")
    assert update["object"]["content"] == "<p>Sirenenprobe am Donnerstag</p>"


async def test_a_new_image_of_a_waiting_edit_survives_the_daily_purge_of_unattached_uploads(
        config, sessions_only, people):
    post_id = await published(sessions_only, config)
    async with sessions_only.begin() as s:
        uploaded = await upload_image(s, config, await find_user(s, "anna"), "feuerwehr", png(), alt="Sirene")
        stray = await upload_image(s, config, await find_user(s, "anna"), "feuerwehr", png(), alt="Vergessen")
    await edit(sessions_only, config, "anna", post_id, "Mit Bild", media_ids=(uploaded.media.id,))
    async with sessions_only.begin() as s:
        counts = await purge_media(s, media_storage(config), utcnow() + timedelta(days=3))  # nobody decided yet
    assert counts["unattached_media"] == 1  # the stray upload only
    seen = await proposal_sha(sessions_only, post_id)
    async with sessions_only.begin() as s:
        assert (await posts.approve_post(s, config, await find_user(s, "ben"), await s.get(Post, post_id), seen)).ok
    async with sessions_only() as s:
        post = await s.get(Post, post_id)
        assert [m.id for m in post.media] == [uploaded.media.id] and stray.media.id != uploaded.media.id


async def test_deleting_the_post_withdraws_its_waiting_edit(config, sessions_only, people):
    post_id = await published(sessions_only, config)
    await edit(sessions_only, config, "anna", post_id, "Übung fällt aus")
    seen = await proposal_sha(sessions_only, post_id)
    async with sessions_only.begin() as s:
        assert (await posts.delete_post(s, await find_user(s, "ben"), await s.get(Post, post_id))).ok
    async with sessions_only.begin() as s:
        post = await s.get(Post, post_id)
        assert (await posts.approve_post(s, config, await find_user(s, "ben"), post, seen)).reason \
            is PostReason.WRONG_STATE
        assert (await s.scalar(select(PostEdit.state))) == EditState.WITHDRAWN
        assert await edits.waiting_edits(s, ["feuerwehr"]) == []
