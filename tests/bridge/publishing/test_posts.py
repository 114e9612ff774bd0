"""The post service as the web form, CLI and API use it: validation, publication, schedule, approval."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from bridge.publishing import posts
from bridge.store.db import utcnow
from bridge.store.models import Job, JobState, Post, PostRevision, PostState, Role
from bridge.publishing.posts import Draft, PostReason
from bridge.publishing.uploads import upload_image
from bridge.auth.users import find_user
from testkit import add_user
from bridge.delivery.jobs import FANOUT_JOB
from bridge.handlers import handle_publish
from bridge.queue.worker import Worker, WorkerContext
from consent.models import AuditEntry


def png(size=(20, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def people(sessions_only, test_password_hash):
    async with sessions_only.begin() as s:
        anna = await add_user(s, "anna", Role.EDITOR, ["stadt", "feuerwehr"], test_password_hash)
        ben = await add_user(s, "ben", Role.EDITOR, ["feuerwehr"], test_password_hash)
        dora = await add_user(s, "dora", Role.DPO, [], test_password_hash)
    return {"anna": anna.id, "ben": ben.id, "dora": dora.id}


async def user(s, people, name):
    return await find_user(s, name)


async def create(sessions, config, name, draft, now=None):
    async with sessions.begin() as s:
        result = await posts.create_post(s, config, await user(s, None, name), draft, now=now)
        return result.reason, (result.post.id if result.post else None)


async def audit_actions(sessions) -> list[str]:
    async with sessions() as s:
        return [e.action for e in (await s.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()]


async def test_a_post_is_published_at_once_and_audited(config, sessions_only, people):
    reason, post_id = await create(sessions_only, config, "anna", Draft("stadt", "Hallo #Welt", via="cli"))
    assert reason is PostReason.OK
    async with sessions_only() as s:
        post = await s.get(Post, post_id)
    assert post.state == PostState.PUBLISHED and post.published_at is not None and post.language == "en"
    actions = await audit_actions(sessions_only)
    assert actions[-2:] == ["post.created", "post.published"]


@pytest.mark.parametrize("draft, reason", [
    (Draft("stadt", "   "), PostReason.EMPTY),
    (Draft("stadt", "x" * 501), PostReason.TOO_LONG),
    (Draft("stadt", "x" * 400, spoiler_text="y" * 101), PostReason.TOO_LONG),
    (Draft("nowhere", "x"), PostReason.UNKNOWN_ACTOR),
    (Draft("stadt", "x", language="fr"), PostReason.INVALID_LANGUAGE),
    (Draft("stadt", "x", mirrors=("bsky",)), PostReason.UNKNOWN_PLATFORM),
    (Draft("stadt", "x", media_ids=(1, 2, 3, 4, 5)), PostReason.TOO_MANY_IMAGES),
    (Draft("stadt", "x", media_ids=(424242,)), PostReason.UNKNOWN_MEDIA),
    (Draft("stadt", "x", scheduled_at=utcnow() - timedelta(minutes=1)), PostReason.SCHEDULE_IN_PAST),
])
async def test_invalid_drafts_are_refused_and_nothing_is_stored(config, sessions_only, people, draft, reason):
    assert (await create(sessions_only, config, "anna", draft))[0] is reason
    async with sessions_only() as s:
        assert (await s.scalars(select(Post))).all() == []


async def test_a_url_counts_as_23_characters(config, sessions_only, people):
    text = "x" * 470 + " https://www.musterstadt.example/" + "a" * 200
    assert (await create(sessions_only, config, "anna", Draft("stadt", text)))[0] is PostReason.OK


async def test_editors_post_only_as_their_accounts_and_dpos_not_at_all(config, sessions_only, people):
    assert (await create(sessions_only, config, "ben", Draft("stadt", "x")))[0] is PostReason.ACTOR_NOT_ALLOWED
    assert (await create(sessions_only, config, "dora", Draft("stadt", "x")))[0] is PostReason.ACTOR_NOT_ALLOWED


async def upload(sessions, config, name, actor, alt="", decorative=False):
    async with sessions.begin() as s:
        result = await upload_image(s, config, await user(s, None, name), actor, png(), alt, decorative)
        return result.media.id if result.ok else result.reason


async def test_images_need_alt_text_or_an_explicit_decorative_choice(config, sessions_only, people):
    no_alt = await upload(sessions_only, config, "anna", "stadt")
    assert (await create(sessions_only, config, "anna", Draft("stadt", "x", media_ids=(no_alt,))))[0] \
        is PostReason.MISSING_ALT
    decorative = await upload(sessions_only, config, "anna", "stadt", decorative=True)
    described = await upload(sessions_only, config, "anna", "stadt", alt="Rathaus im Schnee")
    reason, post_id = await create(sessions_only, config, "anna", Draft("stadt", "", media_ids=(described, decorative)))
    assert reason is PostReason.OK
    async with sessions_only() as s:
        post = await s.get(Post, post_id)
    assert [(m.alt, m.decorative, m.position) for m in post.media] == [("Rathaus im Schnee", False, 0), ("", True, 1)]
    # An image already attached to a post, or uploaded for another account, cannot be reused.
    assert (await create(sessions_only, config, "anna", Draft("stadt", "x", media_ids=(described,))))[0] \
        is PostReason.UNKNOWN_MEDIA
    other = await upload(sessions_only, config, "anna", "feuerwehr", alt="Löschzug")
    assert (await create(sessions_only, config, "anna", Draft("stadt", "x", media_ids=(other,))))[0] \
        is PostReason.UNKNOWN_MEDIA


async def test_a_scheduled_post_is_published_by_the_worker_when_due(config, sessions_only, people):
    at = utcnow() + timedelta(hours=2)
    reason, post_id = await create(sessions_only, config, "anna", Draft("stadt", "Später", scheduled_at=at))
    worker = Worker(WorkerContext(config, sessions_only), {posts.PUBLISH_JOB: handle_publish})
    assert await worker.run_until_idle() == 0
    async with sessions_only.begin() as s:
        assert (await s.get(Post, post_id)).state == PostState.SCHEDULED
        job = await s.scalar(select(Job).where(Job.post_id == post_id))
        assert job.run_at == at
        job.run_at = utcnow() - timedelta(seconds=1)  # time passes
    await worker.run_until_idle()
    async with sessions_only() as s:
        post = await s.get(Post, post_id)
        kinds = {j.kind: j.state for j in (await s.scalars(select(Job).where(Job.post_id == post_id))).all()}
    assert post.state == PostState.PUBLISHED
    assert kinds[posts.PUBLISH_JOB] == JobState.DONE and FANOUT_JOB in kinds  # publication starts federation


async def test_deleting_a_scheduled_post_cancels_its_job(config, sessions_only, people):
    _, post_id = await create(sessions_only, config, "anna",
                              Draft("stadt", "x", scheduled_at=utcnow() + timedelta(hours=1)))
    async with sessions_only.begin() as s:
        result = await posts.delete_post(s, await user(s, None, "anna"), await s.get(Post, post_id))
    assert result.ok
    async with sessions_only() as s:
        job = await s.scalar(select(Job).where(Job.post_id == post_id))
        assert job.state == JobState.CANCELLED and (await s.get(Post, post_id)).state == PostState.DELETED


async def test_four_eyes_approval(config, sessions_only, people):
    reason, post_id = await create(sessions_only, config, "anna", Draft("feuerwehr", "Übung am Samstag"))
    async with sessions_only.begin() as s:
        post = await s.get(Post, post_id)
        assert post.state == PostState.AWAITING_APPROVAL
        seen = posts.content_sha256(post)
        own = await posts.approve_post(s, config, await user(s, None, "anna"), post, seen)
        assert own.reason is PostReason.OWN_POST
        stale = await posts.approve_post(s, config, await user(s, None, "ben"), post, "0" * 64)
        assert stale.reason is PostReason.TEXT_CHANGED
        approved = await posts.approve_post(s, config, await user(s, None, "ben"), post, seen)
        assert approved.ok
    async with sessions_only() as s:
        post = await s.get(Post, post_id)
        assert post.state == PostState.PUBLISHED and post.approved_by.name == "ben"
        assert post.approved_text_sha256 == seen
    assert "post.approved" in await audit_actions(sessions_only)


async def test_returned_post_goes_back_to_draft_and_resubmits(config, sessions_only, people):
    _, post_id = await create(sessions_only, config, "anna", Draft("feuerwehr", "Entwurf"))
    async with sessions_only.begin() as s:
        post = await s.get(Post, post_id)
        assert (await posts.return_post(s, await user(s, None, "ben"), post, "Bitte Uhrzeit nennen")).ok
        assert post.state == PostState.DRAFT and post.review_comment == "Bitte Uhrzeit nennen"
        edited = await posts.edit_post(s, config, await user(s, None, "anna"), post,
                                       Draft("feuerwehr", "Übung am Samstag um 10 Uhr"))
        assert edited.ok and post.state == PostState.AWAITING_APPROVAL


async def test_editing_a_published_post_keeps_the_old_text(config, sessions_only, people):
    _, post_id = await create(sessions_only, config, "anna", Draft("stadt", "Erste Fassung"))
    async with sessions_only.begin() as s:
        post = await s.get(Post, post_id)
        result = await posts.edit_post(s, config, await user(s, None, "anna"), post, Draft("stadt", "Zweite Fassung"))
        assert result.ok
    async with sessions_only() as s:
        post = await s.get(Post, post_id)
        revisions = (await s.scalars(select(PostRevision).where(PostRevision.post_id == post_id))).all()
    assert post.text == "Zweite Fassung" and post.edited_at is not None and post.state == PostState.PUBLISHED
    assert [r.text for r in revisions] == ["Erste Fassung"]
